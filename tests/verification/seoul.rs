//! Verifiable results, checked on the Seoul prize once published: the public key list, the
//! certificate and its bundle verified offline by `laurel verify` (with the key, and with the
//! server), no personal answer in the bundle, an applicant's receipt found in it, every kind of
//! tampering named, and a certificate replaced by a correction's.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::Server;

/// Runs `laurel verify` on `file` with `args`: exit code and output.
fn verify(file: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["verify", file.to_str().unwrap()];
    all.extend_from_slice(args);
    crate::support::laurel(&all)
}

/// Every string in `value` of at least 4 characters.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.chars().count() >= 4 => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(o) => o.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The ids of the rubric's fields that hold personal data, are hidden from judges, or are
/// e-mail addresses, read from the rubric itself.
fn private_fields(rubric: &Value) -> Vec<String> {
    fn private(f: &Value) -> bool {
        f["personal"] == true
            || f["hidden_from_judges"] == true
            || f["type"] == "email"
            || f["fields"]
                .as_array()
                .is_some_and(|fs| fs.iter().any(private))
            || f.get("item").is_some_and(private)
    }
    let mut all: Vec<&Value> = rubric["form"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    for c in rubric["categories"].as_array().unwrap() {
        all.extend(c["fields"].as_array().into_iter().flatten());
    }
    all.into_iter()
        .filter(|f| private(f))
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The verification file with its bundle changed by `change` (the certificate kept).
fn tampered(original: &Value, dir: &Path, name: &str, change: impl FnOnce(&mut Value)) -> PathBuf {
    let mut file = original.clone();
    let mut bundle: Value = serde_json::from_str(file["bundle"].as_str().unwrap()).unwrap();
    change(&mut bundle);
    file["bundle"] = json!(bundle.to_string());
    let path = dir.join(format!("{name}.laurel.json"));
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

/// Checks the published results of `award` on `server` as an outsider would.
pub fn published_results_verify(
    server: &Server,
    award: &str,
    admin: &str,
    applicant: &str,
    applications: &[Value],
    judges: &[Value],
) {
    let dir = tempfile::tempdir().unwrap();
    // Public: the key list and the certificates, without any key.
    let (status, keys) = server.call("GET", "/v1/keys/results", None, None);
    assert_eq!(status, 200, "{keys}");
    let keys = keys["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 1, "{keys:?}");
    let public = keys[0]["public_key"].as_str().unwrap().to_owned();
    let key_file = dir.path().join("results.pub");
    std::fs::write(&key_file, &public).unwrap();
    let (status, listed) = server.call(
        "GET",
        &format!("/v1/awards/{award}/certificates"),
        None,
        None,
    );
    assert_eq!(status, 200, "{listed}");
    let certs = listed["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 1, "{listed}");
    assert_eq!(certs[0]["recomputes"], true, "{listed}");
    let statement = &certs[0]["statement"];
    assert_eq!(statement["award"], award);
    assert_eq!(statement["replaces"], Value::Null);
    let (_, results) = server.get(&format!("/v1/awards/{award}/results"), admin);
    assert_eq!(statement["results_sha256"], results["results_sha256"]);
    assert_eq!(statement["definition_sha256"], results["definition_sha256"]);
    let (status, file) = server.call("GET", certs[0]["file"].as_str().unwrap(), None, None);
    assert_eq!(status, 200);
    let path = dir.path().join("results.laurel.json");
    std::fs::write(&path, file.to_string()).unwrap();

    // Offline, with the key; and with the server.
    let (code, out) = verify(&path, &["--key", key_file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("every score, rank, advancement and winner matches"),
        "{out}"
    );
    let (code, out) = verify(&path, &["--server", &server.url]);
    assert_eq!(code, Some(0), "{out}");

    // Nothing personal: no answer of a private field, no judge's name or address.
    let bundle_text = file["bundle"].as_str().unwrap();
    let rubric: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::support::root().join(format!("rubrics/{award}/award.json")),
        )
        .unwrap(),
    )
    .unwrap();
    let private = private_fields(&rubric);
    assert!(private.iter().any(|f| f == "contact"), "{private:?}");
    let mut secrets = Vec::new();
    for a in applications {
        for f in &private {
            strings(&a["fields"][f], &mut secrets);
        }
        // Application ids are replaced by pseudonyms (as a JSON string: a pseudonym may
        // begin with the same characters).
        secrets.push(format!("\"{}\"", a["id"].as_str().unwrap()));
    }
    for j in judges {
        for k in ["name", "email"] {
            strings(&j[k], &mut secrets);
        }
        secrets.push(format!("\"{}\"", j["id"].as_str().unwrap()));
    }
    assert!(secrets.len() > 50, "{}", secrets.len());
    for s in &secrets {
        assert!(!bundle_text.contains(s.as_str()), "the bundle holds `{s}`");
    }

    // An applicant's receipt proves their application was counted.
    let first = applications[0]["id"].as_str().unwrap();
    let (status, receipt) = server.get(
        &format!("/v1/awards/{award}/applications/{first}/receipt"),
        applicant,
    );
    assert_eq!(status, 200, "{receipt}");
    let receipt_file = dir.path().join("receipt.json");
    std::fs::write(&receipt_file, receipt.to_string()).unwrap();
    let (code, out) = verify(
        &path,
        &[
            "--key",
            key_file.to_str().unwrap(),
            "--receipt",
            receipt_file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!("your application {first} is counted as app-")),
        "{out}"
    );
    // Another applicant cannot read it.
    let other = server.key("applicant", None);
    assert_eq!(
        server
            .get(
                &format!("/v1/awards/{award}/applications/{first}/receipt"),
                &other
            )
            .0,
        404
    );

    // Each tampering is detected and named.
    let key_args = ["--key", key_file.to_str().unwrap()];
    let bundle: Value = serde_json::from_str(bundle_text).unwrap();
    let expert = bundle["rounds"]
        .as_array()
        .unwrap()
        .iter()
        .position(|r| r["round"] == "expert")
        .unwrap();
    let e0 = bundle["rounds"][expert]["evaluations"][0].clone();
    let (indicator, mark) = e0["marks"].as_object().unwrap().iter().next().unwrap();
    let changed_mark = if mark.as_f64() == Some(1.0) {
        json!(10)
    } else {
        json!(1)
    };
    let cases: Vec<(&str, PathBuf, String)> = vec![
        (
            "a mark changed",
            tampered(&file, dir.path(), "mark", |b| {
                b["rounds"][expert]["evaluations"][0]["marks"][indicator] = changed_mark.clone();
            }),
            format!("application {}", e0["application"].as_str().unwrap()),
        ),
        (
            "a judge removed",
            tampered(&file, dir.path(), "judge", |b| {
                let judge = e0["judge"].clone();
                b["rounds"][expert]["evaluations"]
                    .as_array_mut()
                    .unwrap()
                    .retain(|e| e["judge"] != judge);
            }),
            "round `expert`".to_owned(),
        ),
        (
            "an application added",
            tampered(&file, dir.path(), "added", |b| {
                let mut extra = b["applications"][0].clone();
                extra["id"] = json!("app-00000000000000ff");
                b["applications"].as_array_mut().unwrap().push(extra);
            }),
            "application app-00000000000000ff".to_owned(),
        ),
        (
            "a decision altered",
            tampered(&file, dir.path(), "decision", |b| {
                let last = b["rounds"].as_array().unwrap().len() - 1;
                let entrants = b["rounds"][last]["entrants"].clone();
                let advanced = b["rounds"][last]["advanced"].as_array_mut().unwrap();
                let winners: Vec<Value> =
                    advanced.iter().map(|a| a["application"].clone()).collect();
                let loser = entrants
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| !winners.contains(e))
                    .unwrap()
                    .clone();
                advanced[0]["application"] = loser;
            }),
            "its winners".to_owned(),
        ),
        (
            "a result edited",
            tampered(&file, dir.path(), "result", |b| {
                let a = &mut b["results"]["applications"][0];
                a["outcome"] = json!(if a["outcome"] == "winner" {
                    "not_awarded"
                } else {
                    "winner"
                });
            }),
            format!(
                "application {}: outcome",
                bundle["results"]["applications"][0]["application"]
                    .as_str()
                    .unwrap()
            ),
        ),
    ];
    for (what, path, named) in &cases {
        let (code, out) = verify(path, &key_args);
        assert_eq!(code, Some(1), "{what}: {out}");
        assert!(
            out.contains("the bundle is not the one certified"),
            "{what}: {out}"
        );
        assert!(
            out.contains(named.as_str()),
            "{what} names `{named}`: {out}"
        );
    }
    // The signature, or the key, swapped.
    let mut forged = file.clone();
    let mut sig = forged["certificate"]["signature"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(0..1, flipped);
    forged["certificate"]["signature"] = json!(sig);
    let forged_path = dir.path().join("signature.laurel.json");
    std::fs::write(&forged_path, forged.to_string()).unwrap();
    let (code, out) = verify(&forged_path, &key_args);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("the signature does not verify"), "{out}");
    let other_key = dir.path().join("other.pub");
    std::fs::write(&other_key, "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik=").unwrap();
    let (code, out) = verify(&path, &["--key", other_key.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("which is not among the keys given"), "{out}");

    // A correction publishes again: certificate 2 replaces 1, and the old one no longer
    // verifies against the server.
    let (status, _) = server.post(&format!("/v1/awards/{award}/results"), admin, &json!({}));
    assert_eq!(status, 201);
    let (status, published) = server.post(
        &format!("/v1/awards/{award}/results/publish"),
        admin,
        &json!({}),
    );
    assert_eq!(status, 200, "{published}");
    assert_eq!(published["certificate"]["number"], 2, "{published}");
    let (_, listed) = server.call(
        "GET",
        &format!("/v1/awards/{award}/certificates"),
        None,
        None,
    );
    let second = &listed["certificates"][1]["statement"];
    assert_eq!(second["replaces"]["certificate"], 1, "{second}");
    let first_statement = listed["certificates"][0]["certificate"]["statement"]
        .as_str()
        .unwrap();
    assert_eq!(
        second["replaces"]["statement_sha256"],
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            first_statement.as_bytes()
        ))
    );
    let (code, out) = verify(&path, &["--server", &server.url]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("certificate 1 was replaced: certificate 2"),
        "{out}"
    );

    // A rotated key: the old key stays listed, and what it signed still verifies.
    let (status, rotated) = server.post("/v1/keys/results/rotate", admin, &json!({}));
    assert_eq!(status, 200, "{rotated}");
    let listed_keys = rotated["keys"].as_array().unwrap();
    assert_eq!(listed_keys.len(), 2);
    assert!(listed_keys[0]["valid_until"].is_string());
    let (_, file2) = server.call(
        "GET",
        &format!("/v1/awards/{award}/certificates/2"),
        None,
        None,
    );
    let path2 = dir.path().join("results-2.laurel.json");
    std::fs::write(&path2, file2.to_string()).unwrap();
    let (code, out) = verify(&path2, &["--server", &server.url]);
    assert_eq!(code, Some(0), "{out}");
}
