//! The weighted mean of the indicator values `m0`..`m19` of an application, weights 1..20:
//! the benchmark's plugin (`cargo bench --bench plugins`).

use laurel_plugin_sdk::{Decimal, ScoreInput, ScoreOutput, export_hooks};

export_hooks!(score: score);

fn score(input: ScoreInput) -> Result<ScoreOutput, String> {
    let mut total = Decimal::ZERO;
    let mut weights = Decimal::ZERO;
    for i in 0..20u32 {
        let value = input
            .application
            .number(&format!("m{i}"))
            .ok_or_else(|| format!("missing m{i}"))?;
        let weight = Decimal::from(i + 1);
        total += weight * value;
        weights += weight;
    }
    Ok(ScoreOutput {
        score: total / weights,
        explanation: None,
    })
}
