//! The OpenAPI 3.1 document, generated from the route list and the request and response types
//! (their JSON Schemas come from schemars, as `schemas/` does). `schemas/openapi.json` is this
//! document; a test fails when it is stale, and the end-to-end tests call every path it lists.

mod fixups;

use schemars::generate::SchemaSettings;

use super::records::RoundRecord;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{Map, Value, json};

use super::records::{AwardRecord, KeyRecord, ResultsRecord, VersionSummary};
use super::routes::{
    AdvanceBody, Certificates, Draft, EvaluateRequest, GrantRevocation, ManualAssignment,
    MessageBody, MessageSent, NewKey, OpenRound, RecusalBody, RemovalBody, Reschedule, ResultsKeys,
    Review, RoundMarks, TemplateBody, VerificationFile,
};
use super::signing::Signed;

/// `GET /v1/openapi.json`: this document.
pub async fn serve() -> axum::Json<Value> {
    axum::Json(document())
}

/// One operation of the API, the one place its shape is written: method and path (the router
/// serves exactly these, a test says), `operationId`, tag, query parameters
/// (`name[!]:type:description`, comma-separated; `!` marks a required one), summary, who may
/// call it, its request body, its answer's type and status.
struct Op {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    query: &'static str,
    summary: &'static str,
    roles: &'static str,
    body: Body,
    response: Option<Value>,
    status: u16,
}

enum Body {
    None,
    Json(Value),
    Binary,
}

fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

/// Every operation, with who may call it.
/// Request bodies are described by `g` (as they are read), answers by `r` (as they are
/// written: a field left out when empty is not required).
fn operations(g: &mut SchemaGenerator, r: &mut SchemaGenerator) -> Vec<Op> {
    let award = schema::<laurel::wire::AwardDefinition>(g);
    // Applicants may not name their application (the server does): their own request type,
    // so that a generated client can submit as either role.
    let application = json!({
        "oneOf": [schema::<laurel::Application>(g), schema::<super::routes::ApplicantApplication>(g)],
        "description": "An application: with `id` from an administrator or an integrator, without it from an applicant (the server names it)",
    });
    let award_out = schema::<AwardRecord>(r);
    let list = |v: &Value| json!({ "type": "array", "items": v });
    use Body::{Binary, Json, None as NoBody};
    #[allow(clippy::too_many_arguments)]
    let op =
        |method, path, id, tag, query, summary, roles, body, response: Option<Value>, status| Op {
            method,
            path,
            id,
            tag,
            query,
            summary,
            roles,
            body,
            response,
            status,
        };
    vec![
        op(
            "get",
            "/v1/health",
            "getHealth",
            "system",
            "",
            "Liveness",
            "none",
            NoBody,
            Some(schema::<super::answers::Health>(r)),
            200,
        ),
        op(
            "get",
            "/v1/ready",
            "getReadiness",
            "system",
            "",
            "Readiness: the storage answers (its kind; for PostgreSQL its latency and schema version)",
            "none",
            NoBody,
            Some(schema::<super::answers::Readiness>(r)),
            200,
        ),
        op(
            "get",
            "/v1/version",
            "getVersion",
            "system",
            "",
            "Versions of laurel, the API, the definition format and the wasm ABI",
            "none",
            NoBody,
            Some(schema::<super::answers::Versions>(r)),
            200,
        ),
        op(
            "get",
            "/v1/openapi.json",
            "getOpenApi",
            "system",
            "",
            "This document",
            "none",
            NoBody,
            Some(json!({ "type": "object", "description": "This OpenAPI 3.1 document" })),
            200,
        ),
        op(
            "post",
            "/v1/keys",
            "createKey",
            "keys",
            "",
            "Make an API key (shown once)",
            "admin",
            Json(schema::<NewKey>(g)),
            Some(schema::<super::answers::KeyMade>(r)),
            201,
        ),
        op(
            "get",
            "/v1/keys",
            "listKeys",
            "keys",
            "owner:string:Only the keys of this owner (a person's id or a service account's name),limit:integer:How many items (1 to 1000; 500 by default),after:string:The id of the last item of the previous page (the `next` link gives it),role:string:Only keys with this role",
            "List API keys (never their secrets); `?owner=` keeps one owner's",
            "admin, auditor",
            NoBody,
            Some(list(&schema::<KeyRecord>(r))),
            200,
        ),
        op(
            "post",
            "/v1/keys/{key}/revoke",
            "revokeKey",
            "keys",
            "",
            "Revoke an API key",
            "admin",
            NoBody,
            Some(schema::<super::answers::KeyRevoked>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/drafts/mine",
            "getMyDraft",
            "applications",
            "",
            "The caller's draft application of the award (404 when none)",
            "admin, applicant, integrator",
            NoBody,
            Some(schema::<super::answers::SavedDraft>(r)),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/drafts/mine",
            "saveMyDraft",
            "applications",
            "",
            "Save the caller's draft application (sealed, not checked; deleted on submission)",
            "admin, applicant, integrator",
            Json(schema::<Draft>(g)),
            Some(schema::<super::answers::DraftSaved>(r)),
            200,
        ),
        op(
            "delete",
            "/v1/awards/{award}/drafts/mine",
            "discardMyDraft",
            "applications",
            "",
            "Discard the caller's draft",
            "admin, applicant, integrator",
            NoBody,
            None,
            204,
        ),
        op(
            "post",
            "/v1/validate",
            "validateRubric",
            "awards",
            "",
            "Check a rubric as `laurel validate` does: every problem, located; nothing is stored",
            "none",
            Json(
                json!({ "description": "A rubric to check (see AwardDefinition): any JSON document is read, and what is wrong with it is reported in the answer, not refused" }),
            ),
            Some(schema::<super::answers::Checked>(r)),
            200,
        ),
        op(
            "put",
            "/v1/files/{sha256}",
            "uploadPluginFile",
            "awards",
            "",
            "Upload a plugin file, addressed by its SHA-256",
            "admin",
            Binary,
            Some(schema::<super::answers::FileStored>(r)),
            201,
        ),
        op(
            "post",
            "/v1/awards",
            "createAward",
            "awards",
            "",
            "Create an award from a definition (422 with located diagnostics when invalid)",
            "admin",
            Json(award.clone()),
            Some(award_out.clone()),
            201,
        ),
        op(
            "get",
            "/v1/awards",
            "listAwards",
            "awards",
            "limit:integer:How many items (1 to 1000; 500 by default),after:string:The id of the last item of the previous page (the `next` link gives it),state:string:Only awards in this state",
            "List awards",
            "any key",
            NoBody,
            Some(list(&award_out)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}",
            "getAward",
            "awards",
            "",
            "An award: state, versions",
            "any key",
            NoBody,
            Some(award_out.clone()),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/draft",
            "replaceDraft",
            "awards",
            "",
            "Replace the draft definition",
            "admin",
            Json(award),
            Some(award_out.clone()),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/publish",
            "publishAward",
            "awards",
            "confirm:string:The draft's SHA-256, confirming a change that alters scores",
            "Publish the draft as an immutable version",
            "admin",
            NoBody,
            Some(schema::<VersionSummary>(r)),
            201,
        ),
        op(
            "post",
            "/v1/awards/{award}/open",
            "openAward",
            "awards",
            "",
            "Open for applications",
            "admin",
            NoBody,
            Some(award_out.clone()),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/close",
            "closeAward",
            "awards",
            "",
            "Close",
            "admin",
            NoBody,
            Some(award_out.clone()),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/versions/{version}",
            "getAwardVersion",
            "awards",
            "",
            "A published version with its content hash",
            "any key",
            NoBody,
            Some(schema::<super::answers::AwardVersion>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/schema",
            "getApplicationSchema",
            "awards",
            "version:integer:The award's published version (the current one when absent),lang:string:The language of titles and descriptions: one of the award's (its default when absent)",
            "The JSON Schema of applications to the award",
            "any key",
            NoBody,
            Some(schema::<super::answers::ApplicationSchema>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/applications",
            "submitApplication",
            "applications",
            "",
            "Submit an application; eligibility is decided and stored",
            "admin, applicant, integrator",
            Json(application.clone()),
            Some(schema::<super::answers::Stored>(r)),
            201,
        ),
        op(
            "get",
            "/v1/awards/{award}/applications",
            "listApplications",
            "applications",
            "limit:integer:How many items (1 to 1000; 500 by default),after:string:The id of the last item of the previous page (the `next` link gives it),status:string:Only applications with this status (submitted or withdrawn),eligibility:string:Only applications with this eligibility (eligible; ineligible; needs_review),standing:string:Only applications that stand so (eligible; admitted; needs_review; not_admitted; ineligible; unknown; withdrawn) read from the store's index,category:string:Only applications of this category",
            "Applications the key may see (judges: assigned, without hidden fields)",
            "any key",
            NoBody,
            Some(list(&schema::<super::answers::ApplicationView>(r))),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/applications/{application}",
            "getApplication",
            "applications",
            "",
            "One application, as the key may see it",
            "any key",
            NoBody,
            Some(schema::<super::answers::ApplicationView>(r)),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/applications/{application}",
            "updateApplication",
            "applications",
            "",
            "Update an application while the award is open",
            "owner, admin",
            Json(application),
            Some(schema::<super::answers::Stored>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/applications/{application}/withdraw",
            "withdrawApplication",
            "applications",
            "",
            "Withdraw an application, with an optional reason",
            "owner, admin",
            Json(schema::<super::routes::Withdrawal>(g)),
            Some(schema::<super::answers::Withdrawn>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/applications/{application}/review",
            "reviewApplication",
            "applications",
            "",
            "Decide an application that needs review",
            "admin",
            Json(schema::<Review>(g)),
            Some(schema::<super::answers::Reviewed>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/counts",
            "countApplications",
            "applications",
            "",
            "How many applications stand where (eligible, needing review, withdrawn, ...), as the store keeps them counted",
            "admin, auditor",
            NoBody,
            Some(schema::<crate::server::answers::ApplicationCounts>(r)),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/special-mentions",
            "setSpecialMentions",
            "results",
            "",
            "Give the committee's special mentions",
            "admin",
            Json(list(&schema::<laurel::MentionDecision>(g))),
            Some(award_out.clone()),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/results",
            "computeResults",
            "results",
            "",
            "Compute results from the stored data and store them with their hashes",
            "admin",
            NoBody,
            Some(schema::<super::answers::ResultsComputed>(r)),
            201,
        ),
        op(
            "get",
            "/v1/awards/{award}/results",
            "getResults",
            "results",
            "",
            "The latest results, with traces and hashes",
            "admin, auditor",
            NoBody,
            Some(schema::<ResultsRecord>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/results.csv",
            "getResultsCsv",
            "results",
            "",
            "The latest results as CSV",
            "admin, auditor",
            NoBody,
            None,
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/export",
            "exportAward",
            "backup",
            "",
            "Everything about an award as one document (backup)",
            "admin",
            NoBody,
            Some(schema::<super::routes::backup_types::Export>(r)),
            200,
        ),
        op(
            "post",
            "/v1/import",
            "importAward",
            "backup",
            "",
            "Restore an exported award into a server without it",
            "admin",
            Json(schema::<super::routes::backup_types::Export>(g)),
            Some(schema::<super::answers::Imported>(r)),
            201,
        ),
        op(
            "get",
            "/v1/awards/{award}/judges",
            "listJudges",
            "judging",
            "limit:integer:How many items (1 to 1000; 500 by default),after:string:The id of the last item of the previous page (the `next` link gives it)",
            "The award's judges",
            "admin, auditor",
            NoBody,
            Some(list(&schema::<laurel::Judge>(r))),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/judges/{judge}",
            "putJudge",
            "judging",
            "",
            "Register a judge: organisation, city, country, expertise, declared conflicts",
            "admin",
            Json(schema::<laurel::Judge>(g)),
            Some(schema::<laurel::Judge>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/rounds/{round}",
            "getRound",
            "judging",
            "",
            "A round: entrants, assignments, coverage, recusals, who goes on (judges: their applications)",
            "admin, auditor, judge",
            NoBody,
            Some(schema::<super::answers::RoundShown>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/rounds/{round}/open",
            "openRound",
            "judging",
            "",
            "Open a round: entrants from the previous round, judges drawn from the seed without conflicts",
            "admin",
            Json(schema::<OpenRound>(g)),
            Some(schema::<RoundRecord>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/rounds/{round}/close",
            "closeRound",
            "judging",
            "",
            "Close a round: its marks are locked and its results stored by hash",
            "admin",
            NoBody,
            Some(schema::<super::answers::RoundClosed>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/rounds/{round}/advance",
            "advanceRound",
            "judging",
            "",
            "Decide who goes on, by the round's rule or an administrator's decisions with reasons",
            "admin",
            Json(schema::<AdvanceBody>(g)),
            Some(schema::<RoundRecord>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/rounds/{round}/results",
            "getRoundResults",
            "judging",
            "",
            "A round's results, recomputed from its stored marks, with the stored hash",
            "admin, auditor",
            NoBody,
            Some(schema::<super::answers::RoundResults>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/rounds/{round}/diagnostics",
            "getRoundDiagnostics",
            "judging",
            "draws:integer:Draws of the ranking's simulation (0 to 1000; 1000 by default; 0 skips it),seed:integer:The seed of the intervals and the simulation (the same seed gives the same numbers)",
            "The jury's diagnostics from the round's marks: agreement (Krippendorff's alpha, ICC), each judge's severity and consistency, outlying marks, halo, and the ranking's robustness (a seeded simulation)",
            "admin, auditor",
            NoBody,
            Some(schema::<laurel::Diagnosis>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/rounds/{round}/diagnostics/jobs",
            "startDiagnosisJob",
            "judging",
            "draws:integer:Draws of the ranking's simulation (0 to 1000; 1000 by default; 0 skips it),seed:integer:The seed of the intervals and the simulation (the same seed gives the same numbers)",
            "The same diagnosis run as a job (202, `Location` says where to follow it): for a long simulation, whose draws are then not cut short by one request's time",
            "admin, auditor",
            NoBody,
            Some(schema::<super::jobs::JobStatus>(r)),
            202,
        ),
        op(
            "get",
            "/v1/awards/{award}/rounds/{round}/diagnostics/jobs/{job}",
            "getDiagnosisJob",
            "judging",
            "",
            "How far a diagnosis job has come (`done` of `total` scenarios); its diagnosis in `result` once `state` is `done`; any process of the installation answers (the progress is counted by the one running it); kept an hour",
            "admin, auditor",
            NoBody,
            Some(schema::<super::jobs::JobStatus>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/rounds/{round}/recusals",
            "recuse",
            "judging",
            "",
            "A judge recuses from an application, with a reason",
            "admin, judge",
            Json(schema::<RecusalBody>(g)),
            Some(schema::<RoundRecord>(r)),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/rounds/{round}/assignments/{judge}",
            "setAssignment",
            "judging",
            "",
            "Change a judge's applications by hand, with a reason (conflicts refused)",
            "admin",
            Json(schema::<ManualAssignment>(g)),
            Some(schema::<RoundRecord>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/rounds/{round}/marks",
            "listMarks",
            "judging",
            "limit:integer:How many items (1 to 1000; 500 by default),after:string:The id of the last item of the previous page (the `next` link gives it),application:string:Only the marks of this application,judge:string:Only the marks of this judge",
            "A round's marks (judges: their own, and others' when the round allows)",
            "admin, auditor, judge",
            NoBody,
            Some(list(&schema::<laurel::Evaluation>(r))),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/rounds/{round}/marks/{application}",
            "submitMarks",
            "judging",
            "",
            "A judge's marks of an assigned application in an open round",
            "judge",
            Json(schema::<RoundMarks>(g)),
            Some(schema::<super::answers::StoredMarks>(r)),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/rounds/{round}/marks/{application}/{judge}",
            "correctMarks",
            "judging",
            "",
            "Correct locked marks after the round closed, with a reason",
            "admin",
            Json(schema::<RoundMarks>(g)),
            Some(schema::<super::answers::StoredMarks>(r)),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/rounds/{round}/sheets/{application}",
            "keepSheet",
            "judging",
            "",
            "Keep a judge's score sheet for later: the marks given so far, each checked on its scale; they count only once every mark is given and submitted (the answer says what is missing)",
            "judge",
            Json(schema::<RoundMarks>(g)),
            Some(schema::<super::answers::SheetKept>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/rounds/{round}/sheets/{application}/total",
            "sheetTotal",
            "judging",
            "",
            "A judge's total for the marks given so far, as the rubric computes it (stored nowhere): the score sheet's running total",
            "judge",
            Json(schema::<RoundMarks>(g)),
            Some(schema::<super::answers::SheetTotal>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/rounds/{round}/sheets/{application}",
            "getKeptSheet",
            "judging",
            "",
            "The judge's score sheet kept for later, if any",
            "judge",
            NoBody,
            Some(schema::<super::answers::SheetKept>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/rounds/{round}/applications/{application}",
            "getJudgeView",
            "judging",
            "",
            "An assigned application as the judge may see it in this round (blind rounds hide names)",
            "judge",
            NoBody,
            Some(schema::<super::answers::JudgeView>(r)),
            200,
        ),
        op(
            "post",
            "/v1/evaluate",
            "evaluate",
            "scoring",
            "trace:boolean:With each score's breakdown (true; the default) or the numbers only (false): the same numbers either way",
            "Score applications with an inline definition or a published award; nothing is stored",
            "admin, integrator",
            Json(schema::<EvaluateRequest>(g)),
            Some(schema::<laurel::Results<'static>>(r)),
            200,
        ),
        op(
            "get",
            "/v1/audit",
            "listAudit",
            "audit",
            "after:integer:Records after this sequence number,limit:integer:How many (1 to 1000; 1000 by default)",
            "The audit chain (`after`, `limit`)",
            "admin, auditor",
            NoBody,
            Some(list(&schema::<crate::store::AuditRecord>(r))),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/timeline",
            "rescheduleAward",
            "awards",
            "",
            "Move the call's dates, with a reason",
            "admin",
            Json(schema::<Reschedule>(g)),
            Some(schema::<AwardRecord>(r)),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/templates/{kind}",
            "setMailTemplate",
            "messages",
            "",
            "Write the award's own text for a kind of mail in one language, with merge fields (an empty subject and body put Laurel's words back)",
            "admin",
            Json(schema::<TemplateBody>(g)),
            Some(schema::<AwardRecord>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/people/{person}/revoke",
            "revokeGrant",
            "people",
            "",
            "Take back a person's role on the award (their links and sessions no longer give it)",
            "admin",
            Json(schema::<GrantRevocation>(g)),
            Some(schema::<super::answers::GrantsNow>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/messages",
            "sendMessage",
            "messages",
            "",
            "Write to applicants (filtered), applicants with a draft, or judges; each mail is queued in the outbox",
            "admin",
            Json(schema::<MessageBody>(g)),
            Some(schema::<MessageSent>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/results/publish",
            "publishResults",
            "results",
            "",
            "Publish the latest results: applicants see their outcome",
            "admin",
            NoBody,
            Some(schema::<super::answers::Published>(r)),
            200,
        ),
        op(
            "get",
            "/v1/keys/results",
            "listResultsKeys",
            "results",
            "",
            "The public keys that sign results certificates and receipts, with their validity (old keys stay listed)",
            "none",
            NoBody,
            Some(schema::<ResultsKeys>(r)),
            200,
        ),
        op(
            "post",
            "/v1/keys/results/rotate",
            "rotateResultsKey",
            "results",
            "",
            "Retire the results-signing key in use and make a new one",
            "admin",
            NoBody,
            Some(schema::<ResultsKeys>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/certificates",
            "listCertificates",
            "results",
            "",
            "The award's signed results certificates, oldest first (the last is in force)",
            "none",
            NoBody,
            Some(schema::<Certificates>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/certificates/{number}",
            "getVerificationFile",
            "results",
            "",
            "A certificate's verification file: the certificate and the public bundle it certifies, for `laurel verify`",
            "none",
            NoBody,
            Some(schema::<VerificationFile>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/applications/{application}/receipt",
            "getReceipt",
            "applications",
            "",
            "The signed receipt of what an application holds now",
            "owner, admin",
            NoBody,
            Some(schema::<Signed>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/applications/{application}/outcome",
            "getOutcome",
            "results",
            "",
            "An application's path through the rounds and its outcome, once published",
            "owner, admin",
            NoBody,
            Some(schema::<super::answers::ApplicantOutcome>(r)),
            200,
        ),
        op(
            "get",
            "/v1/backup",
            "getBackup",
            "backup",
            "",
            "Every record of the server, with its audit chain, signed with the data key",
            "admin",
            NoBody,
            Some(schema::<super::routes::backup_types::Backup>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/rounds",
            "listRounds",
            "judging",
            "limit:integer:How many items (1 to 1000; 500 by default),after:string:The id of the last item of the previous page (the `next` link gives it),status:string:Only rounds with this status",
            "The award's rounds and their state",
            "admin, auditor",
            NoBody,
            Some(list(&schema::<super::answers::RoundListed>(r))),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/rounds/{round}/results.csv",
            "getRoundResultsCsv",
            "judging",
            "",
            "A round's results as CSV",
            "admin, auditor",
            NoBody,
            None,
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/rounds/{round}/judges/{judge}/remove",
            "removeJudge",
            "judging",
            "",
            "Remove a judge from a round; replacements are drawn",
            "admin",
            Json(schema::<RemovalBody>(g)),
            Some(schema::<RoundRecord>(r)),
            200,
        ),
        op(
            "get",
            "/v1/me/work",
            "getMyWork",
            "judging",
            "",
            "A judge's work across awards and rounds: assigned, marked, due",
            "judge",
            NoBody,
            Some(schema::<super::answers::MyWork>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/webhooks",
            "createWebhook",
            "webhooks",
            "",
            "Register a webhook endpoint for events; the answer shows its signing secret, once",
            "admin",
            Json(schema::<crate::server::routes::NewEndpoint>(g)),
            Some(schema::<super::answers::WebhookEndpoint>(r)),
            201,
        ),
        op(
            "get",
            "/v1/awards/{award}/webhooks",
            "listWebhooks",
            "webhooks",
            "limit:integer:How many items (1 to 1000; 500 by default),after:string:The id of the last item of the previous page (the `next` link gives it)",
            "The award's webhook endpoints (without secrets)",
            "admin, auditor",
            NoBody,
            Some(list(&schema::<super::answers::WebhookEndpoint>(r))),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/webhooks/{endpoint}/disable",
            "disableWebhook",
            "webhooks",
            "",
            "Stop sending events to an endpoint",
            "admin",
            NoBody,
            Some(schema::<super::answers::WebhookEndpoint>(r)),
            200,
        ),
        op(
            "get",
            "/v1/awards/{award}/webhooks/{endpoint}/deliveries",
            "listDeliveries",
            "webhooks",
            "limit:integer:How many items (1 to 1000; 500 by default),after:string:The id of the last item of the previous page (the `next` link gives it),state:string:Only messages in this state (pending; delivered; failed)",
            "An endpoint's messages, pending and done, with every attempt",
            "admin, auditor",
            NoBody,
            Some(list(&schema::<crate::server::webhooks::Message>(r))),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/webhooks/{endpoint}/deliveries/{message}/redeliver",
            "redeliver",
            "webhooks",
            "",
            "Send a message again now, with the same webhook-id",
            "admin",
            NoBody,
            Some(schema::<crate::server::webhooks::Message>(r)),
            202,
        ),
        op(
            "get",
            "/v1/me",
            "getMe",
            "people",
            "",
            "Who is calling: the signed-in person (name, address, roles, CSRF token) or the key",
            "any key",
            NoBody,
            Some(schema::<super::answers::Me>(r)),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/registration",
            "setRegistration",
            "awards",
            "",
            "Open or close applicants' self-registration (invitations still work)",
            "admin",
            Json(schema::<crate::server::routes::Registration>(g)),
            Some(schema::<super::answers::RegistrationNow>(r)),
            200,
        ),
        op(
            "put",
            "/v1/awards/{award}/notifications",
            "setNotifications",
            "awards",
            "",
            "Switch e-mail notifications on or off: application_received, assignment, reminder, outcome",
            "admin",
            Json(
                json!({ "type": "object", "description": "Each notice to switch, on (`true`) or off",
                "propertyNames": { "enum": crate::server::notices::NOTICES }, "additionalProperties": { "type": "boolean" } }),
            ),
            Some(schema::<super::answers::Notifications>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/rounds/{round}/remind",
            "remindJudges",
            "judging",
            "",
            "Mail each judge with an account what they have not marked yet",
            "admin",
            NoBody,
            Some(schema::<super::answers::Reminded>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/uploads",
            "uploadFile",
            "applications",
            "field!:string:The file field (or list of files) the upload is for,name:string:The file's name as the applicant gave it",
            "Upload a file for a `file` field (`?field=`, `&name=`): its type is read from the content; answers the reference to put in the application",
            "admin, applicant, integrator",
            Binary,
            Some(schema::<super::answers::Uploaded>(r)),
            201,
        ),
        op(
            "get",
            "/v1/awards/{award}/applications/{application}/files/{field}",
            "downloadFile",
            "applications",
            "item:integer:For a list of files: which one (from 0)",
            "An application's file: to its owner, administrators, and judges assigned to it (never a field hidden from judges)",
            "owner, admin, the judge",
            NoBody,
            None,
            200,
        ),
        op(
            "get",
            "/v1/people",
            "listPeople",
            "people",
            "limit:integer:How many items (1 to 1000; 500 by default),after:string:The id of the last item of the previous page (the `next` link gives it)",
            "Everyone with an account, with their roles",
            "admin",
            NoBody,
            Some(list(&schema::<super::answers::PersonShown>(r))),
            200,
        ),
        op(
            "post",
            "/v1/people/{person}/sessions/revoke",
            "revokeSessions",
            "people",
            "",
            "End every session of a person",
            "admin",
            NoBody,
            Some(schema::<super::answers::SessionsRevoked>(r)),
            200,
        ),
        op(
            "post",
            "/v1/awards/{award}/invitations",
            "invite",
            "people",
            "",
            "Invite a judge, administrator or auditor by e-mail (a sign-in link valid 7 days)",
            "admin",
            Json(schema::<crate::server::routes::Invitation>(g)),
            Some(schema::<super::answers::GrantsNow>(r)),
            201,
        ),
        op(
            "post",
            "/v1/awards/{award}/register",
            "register",
            "people",
            "",
            "Register as an applicant of an open award: a link to confirm the address is mailed",
            "none",
            Json(schema::<crate::server::routes::SignUp>(g)),
            Some(schema::<super::answers::Accepted>(r)),
            202,
        ),
        op(
            "post",
            "/v1/sign-in",
            "requestSignInLink",
            "people",
            "",
            "Ask for a one-time sign-in link by e-mail (the same answer whether or not the address has an account)",
            "none",
            Json(schema::<crate::server::routes::SignUp>(g)),
            Some(schema::<super::answers::Accepted>(r)),
            202,
        ),
        op(
            "post",
            "/v1/sign-in/redeem",
            "redeemSignInLink",
            "people",
            "",
            "Use a link's token (JSON, or the link page's form): starts a session (an HttpOnly cookie) and returns its CSRF token",
            "none",
            Json(schema::<crate::server::routes::Redeem>(g)),
            Some(schema::<super::answers::SignedIn>(r)),
            200,
        ),
        op(
            "post",
            "/v1/sign-in/passkey/options",
            "getPasskeyChallenge",
            "people",
            "",
            "The challenge for the passkey a session owes (`navigator.credentials.get`'s options)",
            "a session",
            NoBody,
            Some(schema::<super::passkeys::RequestOptions>(r)),
            200,
        ),
        op(
            "post",
            "/v1/sign-in/passkey",
            "usePasskey",
            "people",
            "",
            "Answer the challenge with a passkey: the session's second factor is paid",
            "a session",
            Json(schema::<crate::server::routes::PasskeyAnswer>(g)),
            Some(schema::<super::answers::PasskeyUsed>(r)),
            200,
        ),
        op(
            "post",
            "/v1/me/passkeys/options",
            "getPasskeyRegistrationOptions",
            "people",
            "",
            "The options to register a passkey (`navigator.credentials.create`'s)",
            "a session",
            NoBody,
            Some(schema::<super::passkeys::CreationOptions>(r)),
            200,
        ),
        op(
            "post",
            "/v1/me/passkeys",
            "registerPasskey",
            "people",
            "",
            "Register a passkey (an administrator must, at their first sign-in)",
            "a session",
            Json(schema::<crate::server::routes::NewPasskey>(g)),
            Some(schema::<super::answers::PasskeyShown>(r)),
            201,
        ),
        op(
            "post",
            "/v1/sign-out",
            "signOut",
            "people",
            "",
            "End this session",
            "a session",
            NoBody,
            None,
            204,
        ),
        op(
            "get",
            "/v1/audit/verify",
            "verifyAudit",
            "audit",
            "head:string:A head noted earlier (`seq:hash`) that the chain must still hold",
            "Checks the audit chain and every stored record against it (`head`: a head noted earlier that the chain must still hold)",
            "admin, auditor",
            NoBody,
            Some(schema::<super::answers::ChainChecked>(r)),
            200,
        ),
    ]
}

/// An operation's query parameters, from its `query` (`name[!]:type:description`, ...).
fn query_params(spec: &str) -> Vec<Value> {
    if spec.is_empty() {
        return Vec::new();
    }
    spec.split(',')
        .filter_map(|p| {
            let mut f = p.splitn(3, ':');
            let (name, kind, about) = (f.next()?, f.next()?, f.next()?);
            let required = name.ends_with('!');
            let name = name.trim_end_matches('!');
            let schema = match (name, kind) {
                ("limit", _) => {
                    json!({ "type": "integer", "minimum": 1, "maximum": 1000 })
                }
                ("item", _) => json!({ "type": "integer", "minimum": 0 }),
                ("draws", _) => {
                    json!({ "type": "integer", "minimum": 0, "maximum": 1000 })
                }
                ("seed", _) => {
                    json!({ "type": "integer", "minimum": 0, "maximum": 9_007_199_254_740_991_u64 })
                }
                ("version", _) => {
                    json!({ "type": "integer", "minimum": 1, "maximum": u32::MAX })
                }
                ("lang", _) => {
                    json!({ "type": "string", "pattern": laurel::LANGUAGE_PATTERN })
                }
                ("after", "string") => json!({ "type": "string" }),
                ("after", _) => json!({ "type": "integer", "minimum": 0 }),
                _ => json!({ "type": kind }),
            };
            Some(json!({
                "name": name, "in": "query", "required": required,
                "description": about, "schema": schema,
            }))
        })
        .collect()
}

/// The events of the webhooks: each one's `data`.
fn webhook_events() -> Map<String, Value> {
    let id = |about: &str| json!({ "type": "string", "description": about });
    let events: [(&str, &str, Value, &[&str]); 6] = [
        (
            "application.submitted",
            "An application was submitted",
            json!({ "application": id("The application's id"), "category": id("Its category"), "version": { "type": "integer", "description": "The award's version it was checked against" } }),
            &["application", "category", "version"],
        ),
        (
            "eligibility.decided",
            "An application's eligibility was decided, by its rules or an administrator's review",
            json!({ "application": id("The application's id"), "status": id("eligible, ineligible or needs_review"), "by": id("rules or review") }),
            &["application", "status", "by"],
        ),
        (
            "round.opened",
            "A judging round opened: assignments were drawn",
            json!({ "round": id("The round"), "entrants": { "type": "integer" }, "results_sha256": { "type": ["string", "null"] } }),
            &["round", "entrants"],
        ),
        (
            "round.closed",
            "A judging round closed: its marks are locked and its results stored by hash",
            json!({ "round": id("The round"), "entrants": { "type": "integer" }, "results_sha256": { "type": ["string", "null"] } }),
            &["round", "entrants"],
        ),
        (
            "marks.submitted",
            "A judge's marks of an application were stored (or corrected)",
            json!({ "round": id("The round"), "application": id("The application"), "judge": id("The judge"), "correction": { "type": "boolean" } }),
            &["round", "application", "judge", "correction"],
        ),
        (
            "results.published",
            "The results were published: applicants see their outcome",
            json!({ "results_sha256": id("SHA-256 of the results published"), "seq": { "type": "integer" } }),
            &["results_sha256", "seq"],
        ),
    ];
    events
        .into_iter()
        .map(|(name, summary, data, required)| {
            let header = |h: &str, about: &str| json!({ "name": h, "in": "header", "required": true, "description": about, "schema": { "type": "string" } });
            (
                name.to_owned(),
                json!({ "post": {
                    "operationId": format!("on{}", name.split('.').map(|w| { let mut c = w.chars(); c.next().map_or(String::new(), |f| f.to_uppercase().collect::<String>() + c.as_str()) }).collect::<String>()),
                    "tags": ["webhooks"],
                    "summary": summary,
                    "description": "Signed as the Standard Webhooks specification says; sent at least once with the same `webhook-id`, retried with backoff for about a day until the receiver answers 2xx.",
                    "parameters": [
                        header("webhook-id", "The message's id: the same on every attempt (deduplicate on it)"),
                        header("webhook-timestamp", "Seconds since the epoch when this attempt was signed"),
                        header("webhook-signature", "`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` with the endpoint's secret"),
                    ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": {
                        "type": "object", "required": ["type", "timestamp", "data"],
                        "properties": {
                            "type": { "const": name },
                            "timestamp": { "type": "string", "description": "When it happened (RFC 3339)" },
                            "data": { "type": "object", "properties": data, "required": required },
                        },
                    } } } },
                    "responses": { "2XX": { "description": "Received: no retry" } },
                } }),
            )
        })
        .collect()
}

/// Links from an operation's answer to the operations its id feeds: (from, link name, to,
/// the path parameter, where the id is in the answer). Other operations of the same award
/// take the award from the request's path.
const LINKS: &[(&str, &str, &str, &str, &str)] = &[
    ("createAward", "read", "getAward", "award", "/id"),
    ("createAward", "open", "openAward", "award", "/id"),
    (
        "createAward",
        "applications",
        "listApplications",
        "award",
        "/id",
    ),
    ("createKey", "revoke", "revokeKey", "key", "/id"),
    (
        "submitApplication",
        "read",
        "getApplication",
        "application",
        "/id",
    ),
    (
        "submitApplication",
        "update",
        "updateApplication",
        "application",
        "/id",
    ),
    (
        "submitApplication",
        "withdraw",
        "withdrawApplication",
        "application",
        "/id",
    ),
    (
        "submitApplication",
        "review",
        "reviewApplication",
        "application",
        "/id",
    ),
    (
        "submitApplication",
        "outcome",
        "getOutcome",
        "application",
        "/id",
    ),
    (
        "createWebhook",
        "disable",
        "disableWebhook",
        "endpoint",
        "/id",
    ),
    (
        "createWebhook",
        "deliveries",
        "listDeliveries",
        "endpoint",
        "/id",
    ),
    (
        "invite",
        "revokeSessions",
        "revokeSessions",
        "person",
        "/person",
    ),
];

/// What each tag groups.
const TAGS: &[(&str, &str)] = &[
    ("system", "Health, readiness, versions and this document"),
    (
        "awards",
        "Awards: definitions, versions, the call's dates and settings",
    ),
    ("applications", "Applications, drafts and their files"),
    (
        "judging",
        "Judges, rounds, assignments, marks and a round's results",
    ),
    (
        "results",
        "Final results, publication, outcomes and special mentions",
    ),
    ("scoring", "Scoring without storing anything"),
    ("people", "People, invitations, sign-in and sessions"),
    ("keys", "API keys"),
    (
        "messages",
        "The award's mail texts and messages to applicants and judges",
    ),
    ("webhooks", "Webhook endpoints and their deliveries"),
    ("backup", "Export, import and backup"),
    ("audit", "The audit chain"),
];

fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12().for_deserialize();
    settings.definitions_path = "/components/schemas".into();
    SchemaGenerator::new(settings)
}

/// The generator of answers: types as the server writes them.
fn answer_generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12().for_serialize();
    settings.definitions_path = "/components/schemas".into();
    SchemaGenerator::new(settings)
}

/// Adds the answers' named schemas to the requests'. A type that reads differently from how
/// it is written (a field optional when read, always written), or that refers to one that
/// does, keeps its name for the request and is named `<Name>Answer` as written; the map says
/// which names moved.
fn merge_answers(
    schemas: &mut Map<String, Value>,
    answers: Map<String, Value>,
) -> std::collections::BTreeMap<String, String> {
    let mut renamed: std::collections::BTreeMap<String, String> = answers
        .iter()
        .filter(|(name, schema)| schemas.get(*name).is_some_and(|s| s != *schema))
        .map(|(name, _)| (name.clone(), format!("{name}Answer")))
        .collect();
    // A shared name whose schema refers to a moved one moves too, until nothing more does.
    loop {
        let more: Vec<String> = answers
            .iter()
            .filter(|(name, schema)| {
                schemas.contains_key(*name)
                    && !renamed.contains_key(*name)
                    && renamed.keys().any(|r| fixups::refers_to(schema, r))
            })
            .map(|(name, _)| name.clone())
            .collect();
        if more.is_empty() {
            break;
        }
        for name in more {
            renamed.insert(name.clone(), format!("{name}Answer"));
        }
    }
    // A new name never takes one a type already has.
    for new in renamed.values_mut() {
        while schemas.contains_key(new.as_str()) || answers.contains_key(new.as_str()) {
            new.push('_');
        }
    }
    for (name, mut schema) in answers {
        if schemas.contains_key(&name) && !renamed.contains_key(&name) {
            continue; // read and written alike
        }
        fixups::rename_refs(&mut schema, &renamed);
        let name = renamed.get(&name).cloned().unwrap_or(name);
        schemas.insert(name, schema);
    }
    renamed
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut g = generator();
    let mut r = answer_generator();
    let mut ops = operations(&mut g, &mut r);
    let mut schemas = g.take_definitions(true);
    let renamed = merge_answers(&mut schemas, r.take_definitions(true));
    for o in &mut ops {
        if let Some(response) = &mut o.response {
            fixups::rename_refs(response, &renamed);
        }
    }
    let examples: Map<String, Value> =
        serde_json::from_str(include_str!("examples.json")).unwrap_or_default();
    let mut paths = Map::new();
    let path_of: std::collections::BTreeMap<&str, &str> =
        ops.iter().map(|o| (o.id, o.path)).collect();
    for o in ops {
        let query = query_params(o.query);
        let mut op = json!({
            "operationId": o.id,
            "tags": [o.tag],
            "summary": o.summary,
            "description": format!("Who may call it: {}.", o.roles),
            "responses": {
                "4XX": { "description": "A problem (RFC 9457); `errors` lists located diagnostics for 422", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } },
                "5XX": { "description": "An internal error, with an id to find in the server's log", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } }
            }
        });
        // The handler's answer type, as schemars writes it.
        let declared = o.response.clone();
        let response = match (&declared, o.path.ends_with(".csv")) {
            (_, true) => {
                json!({ "description": "OK", "content": { "text/csv": { "schema": { "type": "string" } } } })
            }
            (Some(s), false) => {
                json!({ "description": "OK", "content": { "application/json": { "schema": s } } })
            }
            (None, false) => json!({ "description": "OK" }),
        };
        op["responses"][o.status.to_string()] = response;
        // Reads carry an ETag and answer 304 to a matching If-None-Match.
        let mut headers_in: Vec<Value> = Vec::new();
        if o.method == "get" && o.status == 200 {
            op["responses"]["200"]["headers"] = json!({ "ETag": {
                "description": "The representation's tag, for If-None-Match (and, on awards, If-Match)",
                "schema": { "type": "string" } } });
            op["responses"]["304"] =
                json!({ "description": "Not modified: the If-None-Match tag is current" });
            headers_in.push(json!({ "name": "If-None-Match", "in": "header", "required": false,
                "description": "A tag read earlier: 304 when it is still current", "schema": { "type": "string" } }));
        }
        if o.method == "post" {
            headers_in.push(json!({ "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "Sent again with the same body within 24 hours, the first answer comes back (header `idempotent-replayed`) and nothing is done twice; with another body, 422",
                "schema": { "type": "string", "minLength": 1, "maxLength": 255 } }));
        }
        if o.id.starts_with("list") && query.iter().any(|q| q["name"] == "after") {
            op["responses"]["200"]["headers"]["Link"] = json!({
                "description": "`<...>; rel=\"next\"` while more items remain: the next page",
                "schema": { "type": "string" } });
        }
        if ["replaceDraft", "publishAward"].contains(&o.id) {
            headers_in.push(json!({ "name": "If-Match", "in": "header", "required": false,
                "description": "The award's ETag as read: 412 when it changed since", "schema": { "type": "string", "pattern": "^(\\*|(W/)?\"[^\"]*\"( *, *(W/)?\"[^\"]*\")*)$" } }));
            op["responses"]["412"] = json!({ "description": "The award changed since the If-Match tag",
                "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } });
        }
        // What a 201 made is at its `Location`.
        if o.status == 201
            && [
                "createAward",
                "submitApplication",
                "publishAward",
                "computeResults",
            ]
            .contains(&o.id)
        {
            op["responses"]["201"]["headers"] = json!({ "Location": {
                "description": "Where what was made can be read", "schema": { "type": "string" } } });
        }
        match o.body {
            Body::Json(s) => {
                op["requestBody"] =
                    json!({ "required": true, "content": { "application/json": { "schema": s } } })
            }
            Body::Binary => {
                op["requestBody"] = json!({ "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary", "contentMediaType": "application/octet-stream" } } } })
            }
            Body::None => {}
        }
        if o.id == "withdrawApplication" {
            // The reason is optional, and so is the body.
            op["requestBody"]["required"] = json!(false);
        }
        if o.id == "redeemSignInLink" {
            // The link's page posts a form; a browser then goes on to the account page.
            op["requestBody"]["content"]["application/x-www-form-urlencoded"] =
                op["requestBody"]["content"]["application/json"].clone();
            op["responses"]["303"] = json!({
                "description": "Posted as a form: the session's cookie is set and the browser is sent to `/me`",
                "headers": { "Location": { "schema": { "type": "string" } }, "Set-Cookie": { "schema": { "type": "string" } } } });
        }
        // What a created thing's id leads to: links for clients and stateful testing.
        for (from, name, to, parameter, pointer) in LINKS {
            if o.id == *from {
                let target = path_of.get(to).copied();
                let mut parameters = json!({ *parameter: format!("$response.body#{pointer}") });
                if *parameter != "award"
                    && o.path.contains("{award}")
                    && target.is_some_and(|p| p.contains("{award}"))
                {
                    parameters["award"] = json!("$request.path.award");
                }
                op["responses"][o.status.to_string()]["links"][*name] =
                    json!({ "operationId": to, "parameters": parameters });
            }
        }
        if let Some(ex) = examples.get(o.id) {
            if let (Some(request), Some(content)) = (
                ex.get("request"),
                op.pointer_mut("/requestBody/content/application~1json"),
            ) {
                content["example"] = request.clone();
            }
            if let (Some(response), Some(content)) = (
                ex.get("response"),
                op.pointer_mut(&format!(
                    "/responses/{}/content/application~1json",
                    o.status
                )),
            ) {
                content["example"] = response.clone();
            }
        }
        if o.roles != "none" {
            op["security"] = json!([{ "apiKey": [] }]);
        }
        let params: Vec<Value> = o
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": if name == "version" {
                json!({ "type": "integer", "minimum": 1, "maximum": u32::MAX })
            } else if name == "number" {
                json!({ "type": "integer", "minimum": 1, "maximum": u64::MAX })
            } else {
                // Every path segment the guard lets through (`guard.rs`).
                json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$" })
            } }))
            .chain(query)
            .chain(headers_in)
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        let entry = paths.entry(o.path.to_owned()).or_insert_with(|| json!({}));
        entry[o.method] = op;
    }
    for (name, schema) in schemas.iter_mut() {
        fixups::objects_for_booleans(schema);
        fixups::enums_for_const_unions(schema);
        fixups::loosen_self_references(schema, name);
        fixups::maps_for_pattern_properties(schema);
        fixups::bounds_for_integer_formats(schema);
        fixups::defaults_in_descriptions(schema);
    }
    schemas.insert(
        "Problem".to_owned(),
        json!({
            "type": "object",
            "description": "RFC 9457 problem details; each `type` (`/problems/<name>`) is a page saying what it means and what to do (docs/problems.md)",
            "properties": {
                "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
                "detail": { "type": "string" },
                "instance": { "type": "string", "description": "The path of the request this problem answers" },
                "errors": { "type": "array", "items": { "$ref": "#/components/schemas/Diagnostic" }, "description": "Every located problem of the request, at once" },
                "impact": { "type": "array", "items": { "type": "object" }, "description": "What a change would alter, when the problem is that it needs confirming: each application whose eligibility or failed rules would change" }
            },
            "required": ["type", "title", "status", "detail"]
        }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Laurel",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A rules engine for configurable awards: awards, applications, judging and results.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "tags": TAGS.iter().map(|(name, about)| json!({ "name": name, "description": about })).collect::<Vec<_>>(),
        "paths": paths,
        "webhooks": webhook_events(),
        "components": {
            "schemas": schemas,
            "securitySchemes": { "apiKey": { "type": "http", "scheme": "bearer", "description": "An API key: `Authorization: Bearer lk_...`" } }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_the_server_sends_is_described() {
        let doc = document();
        let described: Vec<&String> = doc["webhooks"].as_object().unwrap().keys().collect();
        assert_eq!(
            described.len(),
            crate::server::webhooks::EVENTS.len(),
            "{described:?}"
        );
        for e in crate::server::webhooks::EVENTS {
            assert!(doc["webhooks"][e]["post"]["requestBody"].is_object(), "{e}");
        }
    }

    #[test]
    fn every_link_names_an_operation_and_its_parameters() {
        let doc = document();
        let mut ops = std::collections::BTreeMap::new();
        for (path, methods) in doc["paths"].as_object().unwrap() {
            for op in methods.as_object().unwrap().values() {
                ops.insert(op["operationId"].as_str().unwrap().to_owned(), path.clone());
            }
        }
        let mut links = 0;
        for methods in doc["paths"].as_object().unwrap().values() {
            for op in methods.as_object().unwrap().values() {
                for r in op["responses"].as_object().unwrap().values() {
                    for link in r["links"].as_object().into_iter().flat_map(|l| l.values()) {
                        let path = &ops[link["operationId"].as_str().unwrap()];
                        for p in link["parameters"].as_object().unwrap().keys() {
                            assert!(path.contains(&format!("{{{p}}}")), "{path} has no {p}");
                        }
                        links += 1;
                    }
                }
            }
        }
        assert_eq!(links, LINKS.len());
    }

    /// Every body an operation takes or answers in JSON has an example, and each example is
    /// valid under the schema it illustrates.
    #[test]
    fn every_json_body_has_an_example_that_its_schema_accepts() {
        let doc = document();
        let mut missing = Vec::new();
        let mut invalid = Vec::new();
        for (path, methods) in doc["paths"].as_object().unwrap() {
            for (method, op) in methods.as_object().unwrap() {
                let request = op.pointer("/requestBody/content/application~1json");
                let responses = op["responses"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .filter(|(s, _)| s.starts_with('2'));
                let bodies = request
                    .into_iter()
                    .chain(responses.filter_map(|(_, r)| r.pointer("/content/application~1json")));
                for media in bodies {
                    let Some(example) = media.get("example") else {
                        missing.push(format!("{method} {path}"));
                        continue;
                    };
                    let root =
                        json!({ "components": doc["components"], "allOf": [media["schema"]] });
                    let validator = jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .build(&root)
                        .unwrap();
                    if let Some(e) = validator.iter_errors(example).next() {
                        invalid.push(format!("{method} {path}: {e} at {}", e.instance_path()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "no example: {missing:#?}");
        assert!(invalid.is_empty(), "{invalid:#?}");
    }

    /// Every handler answers with a type (whose schema the document gives), never with JSON
    /// built by hand: `Json<Value>` appears in no route.
    #[test]
    fn no_handler_answers_untyped_json() {
        let routes = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/server/routes");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&routes).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.contains("Json<Value>")
                    || line.contains("Json<serde_json::Value>")
                    || line.contains("Json<Vec<Value>>")
                {
                    found.push(format!("{}:{}: {line}", path.display(), n + 1));
                }
            }
        }
        assert!(found.is_empty(), "untyped answers:\n{}", found.join("\n"));
    }

    #[test]
    fn no_answer_is_left_untyped() {
        let doc = document();
        for (path, methods) in doc["paths"].as_object().unwrap() {
            for (method, op) in methods.as_object().unwrap() {
                for (status, r) in op["responses"].as_object().unwrap() {
                    if let Some(s) = r.pointer("/content/application~1json/schema") {
                        let bare = s
                            .as_object()
                            .is_some_and(|m| m.keys().all(|k| k == "type" || k == "description"))
                            && s["type"] != "array";
                        let document_itself = ["getApplicationSchema", "getOpenApi"]
                            .contains(&op["operationId"].as_str().unwrap());
                        assert!(!bare || document_itself, "{method} {path} {status}: {s}");
                    }
                }
            }
        }
    }

    /// The contract both ways: every path the router serves is in the document (an
    /// undocumented route fails here), and every operation of the document is served
    /// (`tests/api.rs` calls each).
    #[test]
    fn every_route_the_router_serves_is_documented() {
        let doc = document();
        let paths = doc["paths"].as_object().unwrap();
        let served = crate::server::routes::served_paths();
        assert!(served.len() > 80, "{served:?}");
        for path in &served {
            assert!(
                paths.contains_key(*path),
                "{path} is served but not documented"
            );
        }
        for path in paths.keys() {
            assert!(
                served.contains(&path.as_str()) || path == "/v1/openapi.json",
                "{path} is documented but not served by routes()"
            );
        }
    }

    #[test]
    fn every_operation_has_a_unique_id_and_a_known_tag() {
        let doc = document();
        let mut ids = std::collections::BTreeSet::new();
        let mut seen = std::collections::BTreeSet::new();
        let tags: Vec<&str> = TAGS.iter().map(|(t, _)| *t).collect();
        for (path, methods) in doc["paths"].as_object().unwrap() {
            for (method, op) in methods.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(!id.is_empty(), "{method} {path} has no operationId");
                assert!(ids.insert(id.to_owned()), "operationId {id} twice");
                assert!(
                    tags.contains(&op["tags"][0].as_str().unwrap()),
                    "{method} {path}"
                );
                seen.insert((method.to_uppercase(), path.clone()));
            }
        }
        let mut g = generator();
        let mut r = answer_generator();
        for o in operations(&mut g, &mut r) {
            assert!(
                seen.contains(&(o.method.to_uppercase(), o.path.to_owned())),
                "the operation table names {} {}, which the document lacks",
                o.method,
                o.path
            );
        }
    }
}
