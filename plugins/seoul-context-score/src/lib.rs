//! The Seoul Smart City Prize's context-adjusted score (see README.md for the formula).

use laurel_plugin_sdk::{Application, Decimal, ScoreInput, ScoreOutput, export_hooks, json};
use rust_decimal::RoundingStrategy;

export_hooks!(score: score);

fn d(text: &str) -> Decimal {
    text.parse().unwrap_or_default()
}

fn round4(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

/// The income-group component: World Bank GNI-per-capita thresholds for fiscal year 2024
/// (low up to 1,135; lower-middle up to 4,465; upper-middle up to 13,845 US dollars).
fn income_component(gdp: Decimal) -> Decimal {
    if gdp <= Decimal::from(1_135) {
        Decimal::ONE
    } else if gdp <= Decimal::from(4_465) {
        d("0.6667")
    } else if gdp <= Decimal::from(13_845) {
        d("0.3333")
    } else {
        Decimal::ZERO
    }
}

fn maturity_component(stage: &str) -> Option<Decimal> {
    match stage {
        "emerging" => Some(Decimal::ONE),
        "developing" => Some(d("0.5")),
        "advanced" => Some(Decimal::ZERO),
        _ => None,
    }
}

/// The disadvantage index, 0 (no disadvantage) to 1, and its parts; `None` without context.
fn disadvantage(app: &Application) -> Option<(Decimal, [Decimal; 3])> {
    let gdp = app.number("gdp_per_capita_usd")?;
    let internet = app.number("internet_penetration_pct")?;
    let stage = maturity_component(app.text("digital_maturity")?)?;
    let income = income_component(gdp);
    let offline = round4((Decimal::ONE_HUNDRED - internet) / Decimal::ONE_HUNDRED);
    let index = round4((income + offline + stage) / Decimal::from(3));
    Some((index, [income, offline, stage]))
}

fn score(input: ScoreInput) -> Result<ScoreOutput, String> {
    let Some((index, [income, offline, stage])) = disadvantage(&input.application) else {
        return Ok(ScoreOutput {
            score: input.total,
            explanation: Some(json!({ "note": "no context variables: the total is unchanged" })),
        });
    };
    let factor = Decimal::ONE + index / Decimal::TEN;
    let score = round4(input.total * factor).min(Decimal::TEN);
    Ok(ScoreOutput {
        score,
        explanation: Some(json!({
            "income_component": income,
            "offline_component": offline,
            "maturity_component": stage,
            "disadvantage": index,
            "factor": factor,
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_by_hand() {
        let app: Application = serde_json::from_value(json!({
            "id": "a", "category": "c", "applicant_type": "city",
            "fields": { "gdp_per_capita_usd": 3000, "internet_penetration_pct": 70, "digital_maturity": "developing" }
        }))
        .unwrap();
        // (0.6667 + 0.3 + 0.5) / 3 = 0.48890 -> 0.4889; factor 1.04889; 8 x 1.04889 = 8.39112.
        let out = score(ScoreInput {
            application: app,
            total: d("8"),
            criteria: Default::default(),
            judges: 5,
        })
        .unwrap();
        assert_eq!(out.score, d("8.3911"));
    }
}
