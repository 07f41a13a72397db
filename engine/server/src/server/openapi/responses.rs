//! The answers whose handlers build their JSON by hand, described here, and the named schemas
//! they share. Every answer a test receives is checked against the document
//! (`tests/support/contract.rs`), so a handler that drifts from its description fails a test.

use serde_json::{Value, json};

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties })
}

/// An object that may hold nothing else (what the server reads back, as an import).
fn closed(required: &[&str], properties: Value) -> Value {
    let mut o = object(required, properties);
    o["additionalProperties"] = json!(false);
    o
}

fn list(items: Value) -> Value {
    json!({ "type": "array", "items": items })
}

/// Shared named schemas, added to `components.schemas`.
pub fn components() -> Vec<(&'static str, Value)> {
    let string = json!({ "type": "string" });
    let int = json!({ "type": "integer" });
    let decimal = json!({ "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$", "description": "An exact decimal, written as a string" });
    let text = json!({ "description": "A text: one string, or one per language", "anyOf": [
        { "type": "string" }, { "type": "object", "additionalProperties": { "type": "string" } } ] });
    vec![
        (
            "Diagnostic",
            object(
                &["severity", "code", "pointer", "message"],
                json!({
                    "severity": { "enum": ["error", "warning", "note"] }, "code": string,
                    "pointer": { "type": "string", "description": "A JSON Pointer into the document checked" },
                    "line": int, "column": int, "message": string, "hint": string,
                    "source": { "type": "object", "description": "Where in a plugin's source, when the problem is there" },
                }),
            ),
        ),
        (
            "EligibilityDecision",
            object(
                &["application", "status", "failures", "rules_checked"],
                json!({
                    "application": string,
                    "status": { "enum": ["eligible", "ineligible", "needs_review"] },
                    "failures": list(object(&["rule", "outcome", "message"], json!({
                        "rule": string, "outcome": string, "message": text,
                        "values": { "type": "object", "description": "Every field value the rule read" },
                        "details": list(string.clone()),
                    }))),
                    "rules_checked": int,
                    "admitted": { "type": "boolean", "description": "In results: whether it is scored" },
                    "review": { "description": "An administrator's review, when there was one" },
                }),
            ),
        ),
        (
            "ScoringResults",
            object(
                &[
                    "award",
                    "definition_sha256",
                    "laurel_version",
                    "eligibility",
                    "categories",
                    "special_mentions",
                    "warnings",
                ],
                json!({
                    "award": string, "definition_sha256": string, "laurel_version": string,
                    "inputs_sha256": { "type": "string", "description": "SHA-256 of the inputs scored" },
                    "eligibility": list(r("EligibilityDecision")),
                    "categories": list(object(&["category", "winners", "ranking", "unscored"], json!({
                        "category": string,
                        "winners": { "type": "integer", "description": "How many win" },
                        "ranking": list(object(&["rank", "application", "score", "tied", "judges"], json!({
                            "rank": { "type": "integer", "minimum": 1 }, "application": string, "score": decimal,
                            "winner": { "type": "boolean" }, "tied": { "type": "boolean" },
                            "tie_broken_by": string, "judges": int,
                            "trace": { "type": "object", "description": "Every number behind the score: each judge's marks, criteria, normalisation, aggregation, plugin, adjustments, rounding (absent with `trace: false`)" },
                        }))),
                        "unscored": list(object(&["application", "reason"], json!({
                            "application": string, "reason": string, "plugin_error": { "type": "object" } }))),
                    }))),
                    "special_mentions": list(object(&["application", "reason"], json!({ "application": string, "reason": string }))),
                    "warnings": { "type": "array", "items": string, "description": "Things worth knowing that did not stop scoring" },
                }),
            ),
        ),
        (
            "WebhookEndpoint",
            object(
                &["id", "award", "url", "events", "enabled", "created_at"],
                json!({
                    "id": string, "award": string, "url": string, "events": list(string.clone()),
                    "description": string, "enabled": { "type": "boolean" }, "created_at": string,
                    "secret": { "type": "string", "description": "Only when the endpoint is registered: the signing secret, shown once" },
                }),
            ),
        ),
        (
            "Accepted",
            object(
                &["detail"],
                json!({ "detail": { "type": "string", "description": "The same answer whatever the address, so that nobody learns who is registered" } }),
            ),
        ),
        (
            "StoredMarks",
            object(
                &["award", "round", "application", "judge", "marks"],
                json!({
                    "award": string, "round": string, "application": string, "judge": string,
                    "marks": { "type": "object", "description": "Each indicator's mark (a number as a string, a level's id, or null)" },
                    "comment": { "type": ["string", "null"] },
                    "criterion_comments": { "type": "object", "additionalProperties": { "type": "string" } },
                }),
            ),
        ),
    ]
}

/// The answer of the operation `id`, when it is described here rather than by a type.
#[allow(clippy::too_many_lines)] // one table
pub fn typed(id: &str) -> Option<Value> {
    let string = json!({ "type": "string" });
    let int = json!({ "type": "integer" });
    let boolean = json!({ "type": "boolean" });
    let opt_int = json!({ "type": ["integer", "null"] });
    let text = json!({ "description": "A text: one string, or one per language", "anyOf": [
        { "type": "string" }, { "type": "object", "additionalProperties": { "type": "string" } } ] });
    let application_view = object(
        &["id", "award", "version", "status", "application"],
        json!({
            "id": string, "award": string, "version": int,
            "title": { "type": "string", "description": "The entry's name, from the form's field tagged `title` (absent when the caller sees none)" },
            "status": { "enum": ["submitted", "withdrawn"] },
            "application": { "type": "object", "description": "The application as the caller may see it" },
            "eligibility": { "type": "object", "description": "The rules' decision: status, failures, rules checked" },
            "review": { "description": "An administrator's review, when there was one" },
            "submitted_at": string, "updated_at": string,
        }),
    );
    let stored = object(
        &["id", "status", "version", "eligibility"],
        json!({ "id": string, "status": { "const": "submitted" }, "version": int, "eligibility": r("EligibilityDecision"),
            "receipt": { "description": "The signed receipt of what was stored (keep it: `laurel verify … --receipt`)", "allOf": [r("Signed")] } }),
    );
    let export_entry = closed(
        &["tree", "key"],
        json!({ "tree": string, "key": { "type": "string", "description": "The key, escaped (`award/app-001`)" },
            "text": { "type": "string", "description": "The value, when it is UTF-8" },
            "base64": { "type": "string", "description": "The value, when it is not (plugin files)" } }),
    );
    let grants = list(object(
        &["role"],
        json!({ "award": string, "role": string, "judge": string }),
    ));
    Some(match id {
        "getHealth" | "getReadiness" => object(&["status"], json!({ "status": string })),
        "getVersion" => object(
            &["api", "laurel", "definition_format", "wasm_abi"],
            json!({ "api": string, "laurel": string, "definition_format": string, "wasm_abi": int }),
        ),
        "getMe" => json!({ "anyOf": [
            { "type": "object", "description": "An API key", "required": ["key", "role"], "properties": {
                "key": string, "role": string, "subject": { "type": ["string", "null"] } } },
            { "type": "object", "description": "A signed-in person", "required": ["person", "grants", "csrf"], "properties": {
                "person": string, "name": string, "email": string, "language": string,
                "grants": grants, "verified": boolean, "csrf": string } } ] }),
        "listRounds" => list(object(
            &["round", "marked", "status", "shortfalls"],
            json!({
                "round": string, "name": text, "marked": boolean,
                "judges_per_application": opt_int, "status": { "enum": ["not_open", "open", "closed"] },
                "entrants": opt_int, "advanced": opt_int, "shortfalls": list(string.clone()) }),
        )),
        "getAwardVersion" => object(
            &["award", "version", "sha256", "definition"],
            json!({
                "award": string, "version": int, "sha256": string, "published_at": string,
                "definition": { "type": "object", "description": "The award definition as published" },
                "files": { "type": "array", "items": string, "description": "Its plugin files' paths" } }),
        ),
        "getApplication" => application_view,
        "listApplications" => list(application_view),
        "submitApplication" | "updateApplication" => stored,
        "withdrawApplication" => object(
            &["id", "status"],
            json!({ "id": string, "status": { "const": "withdrawn" } }),
        ),
        "reviewApplication" => object(
            &["id", "review"],
            json!({ "id": string, "review": object(&["application", "eligible", "reason"], json!({
                "application": string, "eligible": boolean, "reason": string })) }),
        ),
        "getMyDraft" => object(
            &["category", "applicant_type", "fields"],
            json!({ "category": string, "applicant_type": string,
                "fields": { "description": "The fields so far, as the form had them" }, "saved_at": string }),
        ),
        "saveMyDraft" => object(
            &["award", "saved_at"],
            json!({ "award": string, "saved_at": string }),
        ),
        "getOutcome" => object(
            &["application", "published"],
            json!({
                "application": string, "published": boolean, "status": string,
                "eligibility": {}, "outcome": string, "rounds": list(json!({ "type": "object" })),
                "special_mention": boolean, "comments": { "type": "object" },
                "criterion_comments": { "type": "object" }, "published_at": string, "review": {} }),
        ),
        "getJudgeView" => object(
            &["award", "round", "blind", "application"],
            json!({ "award": string, "round": string, "blind": boolean, "application": { "type": "object" } }),
        ),
        "getRound" => json!({ "anyOf": [
            r("RoundRecord"),
            { "type": "object", "description": "A judge's view: their applications in the round",
              "required": ["award", "round", "status", "applications"], "properties": {
                "award": string, "round": string, "status": string, "applications": list(string.clone()) } } ] }),
        "getMyWork" => object(
            &["judge", "rounds"],
            json!({ "judge": string, "rounds": list(json!({ "type": "object", "properties": {
                "award": string, "round": string, "status": string, "closes": { "type": ["string", "null"] },
                "titles": { "type": "object", "additionalProperties": string, "description": "Each assigned entry's name as a judge may see it (an entry without one is left out)" },
                "assigned": list(string.clone()), "marked": list(string.clone()), "due": list(string.clone()) } })) }),
        ),
        "listPeople" => list(object(
            &["person", "grants"],
            json!({ "person": string, "name": string, "email": string, "language": string,
                "grants": grants, "verified": boolean,
                "link_expires_at": { "type": "string", "description": "Until when the person's newest sign-in link works (an invitation not yet followed expires then)" } }),
        )),
        "revokeGrant" => object(
            &["person", "grants"],
            json!({ "person": string, "grants": grants.clone() }),
        ),
        "invite" => object(
            &["person", "grants"],
            json!({ "person": string, "grants": grants }),
        ),
        "register" | "requestSignInLink" => r("Accepted"),
        "redeemSignInLink" => object(
            &["person", "csrf", "expires_at"],
            json!({ "person": string, "csrf": { "type": "string", "description": "Send it back as `x-csrf-token` with every write made with the session's cookie" }, "expires_at": string }),
        ),
        "getPasskeyChallenge" => object(
            &["rpId", "challenge", "allowCredentials"],
            json!({ "rpId": string, "challenge": { "type": "string", "description": "base64url" }, "timeout": { "type": "integer" },
                "userVerification": string, "allowCredentials": list(object(&["type", "id"], json!({ "type": string, "id": string }))) }),
        ),
        "getPasskeyRegistrationOptions" => object(
            &["rp", "user", "challenge", "pubKeyCredParams"],
            json!({ "rp": object(&["id", "name"], json!({ "id": string, "name": string })),
                "user": object(&["id", "name", "displayName"], json!({ "id": string, "name": string, "displayName": string })),
                "challenge": { "type": "string", "description": "base64url" },
                "pubKeyCredParams": list(object(&["type", "alg"], json!({ "type": string, "alg": { "type": "integer" } }))),
                "timeout": { "type": "integer" }, "attestation": string, "authenticatorSelection": { "type": "object" },
                "excludeCredentials": list(object(&["type", "id"], json!({ "type": string, "id": string }))) }),
        ),
        "registerPasskey" => object(
            &["id", "label", "created_at"],
            json!({ "id": string, "label": string, "created_at": string }),
        ),
        "usePasskey" => object(
            &["signed_in", "passkey"],
            json!({ "signed_in": boolean, "passkey": string }),
        ),
        "revokeSessions" => object(
            &["person", "sessions_after", "keys_revoked"],
            json!({ "person": string, "sessions_after": string, "keys_revoked": list(string.clone()) }),
        ),
        "createKey" => object(
            &["id", "key", "role", "owner"],
            json!({
                "id": string, "key": { "type": "string", "description": "The secret: shown once, only its hash is stored" },
                "role": string, "subject": { "type": ["string", "null"] },
                "owner": object(&["kind", "id"], json!({ "kind": { "enum": ["person", "service"] }, "id": string })),
                "note": string }),
        ),
        "revokeKey" => object(
            &["id", "revoked"],
            json!({ "id": string, "revoked": { "const": true } }),
        ),
        "setNotifications" => object(
            &["award", "notifications"],
            json!({ "award": string, "notifications": { "type": "object", "additionalProperties": boolean } }),
        ),
        "setRegistration" => object(
            &["award", "registration_open"],
            json!({ "award": string, "registration_open": boolean }),
        ),
        "computeResults" => object(
            &[
                "award",
                "version",
                "seq",
                "computed_at",
                "definition_sha256",
                "results_sha256",
                "categories",
                "warnings",
            ],
            json!({
                "award": string, "version": int, "seq": int, "computed_at": string,
                "definition_sha256": string, "results_sha256": string,
                "audit_head": { "anyOf": [r("Head"), { "type": "null" }] },
                "rounds": list(json!({ "type": "object" })),
                "categories": list(object(&["category", "winners"], json!({
                    "category": string, "declared_winners": int,
                    "winners": list(json!({ "type": "object" })), "special_mentions": list(json!({ "type": "object" })) }))),
                "warnings": list(string.clone()) }),
        ),
        "publishResults" => object(
            &["award", "published"],
            json!({ "award": string, "published": object(&["at", "results_sha256", "seq"], json!({
                "at": string, "results_sha256": string, "seq": int })),
                "certificate": object(&["number", "recomputes", "file"], json!({
                    "number": int,
                    "recomputes": { "type": "boolean", "description": "Whether the server's recomputation of the public bundle gave the published results" },
                    "file": { "type": "string", "description": "Where the verification file is" } })) }),
        ),
        "submitMarks" | "correctMarks" => r("StoredMarks"),
        "setSpecialMentions" => r("AwardRecord"),
        "remindJudges" => object(
            &["round", "reminded"],
            json!({ "round": string, "reminded": { "type": "integer", "description": "How many judges were reminded" } }),
        ),
        "getRoundResults" => object(
            &["round", "status", "results", "results_sha256"],
            json!({
                "round": string, "status": string, "results": r("ScoringResults"),
                "inputs_sha256": string, "results_sha256": string,
                "stored_results_sha256": { "type": ["string", "null"], "description": "The hash stored when the round closed" },
                "shortfalls": list(string.clone()) }),
        ),
        "evaluate" => r("ScoringResults"),
        "validateRubric" => object(
            &["valid", "errors", "warnings", "diagnostics"],
            json!({ "valid": boolean, "errors": int, "warnings": int, "diagnostics": list(r("Diagnostic")) }),
        ),
        "listWebhooks" => list(r("WebhookEndpoint")),
        "createWebhook" | "disableWebhook" => r("WebhookEndpoint"),
        "uploadPluginFile" => object(
            &["sha256", "bytes"],
            json!({ "sha256": string, "bytes": int }),
        ),
        "uploadFile" => object(
            &["name", "media_type", "sha256", "size"],
            json!({ "name": string, "media_type": string, "sha256": { "type": "string", "description": "Give it as the file field's value" }, "size": int }),
        ),
        "importAward" => object(
            &["award", "imported", "resealed"],
            json!({ "award": string, "imported": { "type": "object", "additionalProperties": int, "description": "Records imported, per kind" },
                "resealed": int, "source_head": { "anyOf": [r("Head"), { "type": "null" }] } }),
        ),
        "exportAward" => closed(
            &[
                "format",
                "award",
                "exported_at",
                "key_fingerprint",
                "records",
                "audit",
                "mac",
            ],
            json!({ "format": { "const": "laurel-award-export/2" }, "award": string, "exported_at": string,
                "key_fingerprint": string, "head": { "anyOf": [r("Head"), { "type": "null" }] },
                "records": list(export_entry.clone()), "audit": list(r("AuditRecord")), "mac": string }),
        ),
        "getBackup" => object(
            &["format", "made_at", "key_fingerprint", "entries", "mac"],
            json!({ "format": { "const": "laurel-backup/1" }, "made_at": string, "key_fingerprint": string,
                "head": { "anyOf": [r("Head"), { "type": "null" }] }, "entries": list(export_entry), "mac": string }),
        ),
        "getApplicationSchema" => {
            json!({ "type": "object", "description": "A JSON Schema (2020-12) of the award's application form" })
        }
        "getOpenApi" => json!({ "type": "object", "description": "This OpenAPI 3.1 document" }),
        _ => return None,
    })
}
