//! Every answer a test gets from the API is checked against the committed OpenAPI document
//! (`schemas/openapi.json`, which a test keeps equal to the served one): its status is
//! declared for its operation, and its body conforms to the schema declared for that status.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{Value, json};

struct Contract {
    doc: Value,
    validators: Mutex<HashMap<(String, String, String), std::sync::Arc<jsonschema::Validator>>>,
}

fn contract() -> &'static Contract {
    static C: OnceLock<Contract> = OnceLock::new();
    C.get_or_init(|| Contract {
        doc: serde_json::from_str(
            &std::fs::read_to_string(super::root().join("schemas/openapi.json")).unwrap(),
        )
        .unwrap(),
        validators: Mutex::new(HashMap::new()),
    })
}

/// The document's path template that `path` fills: the one with the most literal segments.
fn template<'a>(doc: &'a Value, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .keys()
        .filter_map(|t| {
            let parts: Vec<&str> = t.split('/').collect();
            (parts.len() == segments.len()
                && parts
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| p.starts_with('{') || p == s))
            .then(|| (parts.iter().filter(|p| !p.starts_with('{')).count(), t))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, t)| t.as_str())
}

/// Panics when the answer is not what the document declares for this operation.
pub fn check(method: &str, path: &str, request: Option<&[u8]>, status: u16, body: &Value) {
    let c = contract();
    let path = path.split('?').next().unwrap_or(path);
    let Some(t) = template(&c.doc, path) else {
        // Pages and problems' pages are not the API; an API path the document lacks may only
        // be one nothing serves.
        assert!(
            !path.starts_with("/v1/") || matches!(status, 404 | 405),
            "{method} {path} answered {status}, but the document has no such path: {body}"
        );
        return;
    };
    let Some(op) = c.doc["paths"][t].get(method.to_lowercase()) else {
        // A method the document does not list must be one the API does not serve.
        assert!(
            matches!(status, 404 | 405),
            "{method} {t} answered {status}, but the document has no such operation: {body}"
        );
        return;
    };
    let code = status.to_string();
    let class = format!("{}XX", &code[..1]);
    let Some(response) = op["responses"]
        .get(&code)
        .or_else(|| op["responses"].get(&class))
    else {
        panic!("{method} {t} answered {status}, which the document does not declare: {body}");
    };
    let Some(content) = response.get("content").and_then(Value::as_object) else {
        return; // declared without a body (204, 304)
    };
    let (kind, media) = content.iter().next().unwrap();
    if kind == "text/csv" {
        assert!(
            body.is_string(),
            "{method} {t}: a CSV answer was JSON: {body}"
        );
        return;
    }
    let key = (method.to_owned(), t.to_owned(), code.clone());
    let validator = c
        .validators
        .lock()
        .unwrap()
        .entry(key)
        .or_insert_with(|| {
            let root = json!({ "components": c.doc["components"], "allOf": [media["schema"]] });
            std::sync::Arc::new(
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("{method} {t}: the schema does not compile: {e}")),
            )
        })
        .clone();
    let errors: Vec<String> = validator
        .iter_errors(body)
        .take(3)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} answered {status} not as the document declares: {errors:?}\n{body}"
    );
    // `LAUREL_CONTRACT_DUMP=file` keeps every exchange, from which the document's examples
    // (`engine/server/src/server/openapi/examples.json`) were chosen.
    if let Ok(file) = std::env::var("LAUREL_CONTRACT_DUMP") {
        use std::io::Write;
        let request = request.map(|b| {
            serde_json::from_slice::<Value>(b)
                .unwrap_or_else(|_| json!(format!("{} bytes", b.len())))
        });
        let line = json!({ "op": op["operationId"], "path": path, "request": request, "status": status, "body": body });
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .unwrap();
        f.write_all(format!("{line}\n").as_bytes()).unwrap();
    }
}
