//! sled's recovery and its blob files. sled writes a page too large for its log as a file of its
//! own (a blob) and logs a pointer to it; it removes a blob once a newer version of its page is
//! stable. Upstream, recovery skipped any pointer whose file was missing, so a data folder that
//! lost the file holding a page's newest version was served with that page as it was before,
//! silently. Laurel's sled refuses to open it (`vendor/sled/PATCH.md`, change 6); a blob
//! replaced by a newer version may still go missing without harm. And data damaged on the disk
//! while the server runs stops the store at the first read that finds it, as a refused write
//! does.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use support::root;

/// What `SledStore::open` opens: sled's defaults (512 KiB segments, so a page of more than
/// about 128 KiB is a blob).
fn open(dir: &Path) -> sled::Result<sled::Db> {
    sled::Config::new().path(dir).open()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target)
                .unwrap_or_else(|e| panic!("{}: {e}", entry.path().display()));
        }
    }
}

/// `laurel serve` on `data` with its key and the shipped rubrics, which must refuse to start:
/// its exit code and what it said.
fn serve_refused(data: &Path, key: &Path) -> (Option<i32>, String) {
    let rubrics = root().join("rubrics");
    support::serve_refused(&[
        "--data",
        data.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--rubrics",
        rubrics.to_str().unwrap(),
    ])
}

/// The blob files of a closed database, once the folder has stopped changing: sled's IO
/// threads may still remove replaced blobs after the database is dropped.
fn settled_blobs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut all = blobs(dir);
    let mut same = 0;
    while same < 5 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let now = blobs(dir);
        same = if now == all { same + 1 } else { 0 };
        all = now;
    }
    all
}

fn blobs(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

/// Random histories of large values under a few keys, small ones under many; then, for every blob file in
/// turn, a copy of the folder without it: it either refuses to open, naming the file, or reads
/// every key's last value. Never an older one.
#[test]
fn a_missing_blob_is_refused_unless_a_newer_version_replaced_it() {
    let (mut refused, mut accepted, mut files) = (0, 0, 0);
    for seed in 0..8u64 {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = move |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        let dir = tempfile::tempdir().unwrap();
        let mut expected: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        {
            let db = open(dir.path()).unwrap();
            let tree = db.open_tree("t").unwrap();
            for step in 0..(6 + next(30)) {
                let key = format!("k{}", next(3)).into_bytes();
                let len = if next(3) == 0 {
                    100
                } else {
                    140_000 + next(120_000) as usize
                };
                let fill = (seed * 1_000 + step) as u8;
                let value: Vec<u8> = (0..len).map(|i| fill ^ (i % 251) as u8).collect();
                tree.insert(&key, value.clone()).unwrap();
                expected.insert(key, value);
                // Small records beside them, so that the log rolls over segments and sled
                // rewrites (relocates) older pages.
                for _ in 0..next(40) {
                    let key = format!("s{}", next(200)).into_bytes();
                    let value = vec![fill; 1 + next(2_000) as usize];
                    tree.insert(&key, value.clone()).unwrap();
                    expected.insert(key, value);
                }
                if next(2) == 0 {
                    db.flush().unwrap();
                }
            }
            db.flush().unwrap();
        }
        let all = settled_blobs(dir.path());
        assert!(!all.is_empty(), "seed {seed}: no blob written");
        // The folder as written opens and reads what was written last; opening it removes
        // the blob files no page needs (change 7): what it keeps is checked below to be
        // exactly the files without which the folder is refused.
        let kept = {
            let copy = tempfile::tempdir().unwrap();
            copy_dir(dir.path(), copy.path());
            let db = open(copy.path()).unwrap();
            let tree = db.open_tree("t").unwrap();
            for (k, v) in &expected {
                assert_eq!(tree.get(k).unwrap().as_deref(), Some(&v[..]), "seed {seed}");
            }
            drop(tree);
            drop(db);
            let names = |blobs: Vec<std::path::PathBuf>| -> Vec<std::ffi::OsString> {
                blobs
                    .iter()
                    .map(|b| b.file_name().unwrap().to_owned())
                    .collect()
            };
            names(settled_blobs(copy.path()))
        };
        let mut needed = Vec::new();
        for blob in &all {
            files += 1;
            let copy = tempfile::tempdir().unwrap();
            copy_dir(dir.path(), copy.path());
            let name = blob.file_name().unwrap();
            std::fs::remove_file(copy.path().join("blobs").join(name)).unwrap();
            match open(copy.path()) {
                Err(e) => {
                    let message = e.to_string();
                    assert!(
                        message.contains("is missing")
                            && message.contains(&format!("`blobs/{}`", name.to_string_lossy()))
                            && message.contains("Restore the data folder from a backup"),
                        "seed {seed}: {message}"
                    );
                    refused += 1;
                    needed.push(name.to_owned());
                }
                Ok(db) => {
                    let tree = db.open_tree("t").unwrap();
                    for (k, v) in &expected {
                        let got = tree.get(k);
                        assert!(
                            matches!(&got, Ok(Some(x)) if x[..] == v[..]),
                            "seed {seed}: without blob {name:?}, key {} read {} instead of its last \
                             value ({} bytes)",
                            String::from_utf8_lossy(k),
                            match &got {
                                Ok(Some(x)) => format!("{} bytes", x.len()),
                                Ok(None) => "nothing".to_owned(),
                                Err(e) => format!("an error ({e})"),
                            },
                            v.len()
                        );
                    }
                    accepted += 1;
                }
            }
        }
        assert_eq!(
            kept, needed,
            "seed {seed}: the blob files kept as the folder opened are not the ones it needs"
        );
    }
    println!("{files} blob files removed one at a time: {refused} refused, {accepted} not needed");
    assert!(refused > 0, "no removal was refused");
}

/// The same through the server: a data folder whose blob files are gone (the stored award
/// definitions are blobs) is refused at start-up with what happened and what to do, before
/// anything is served or written.
#[test]
fn the_server_refuses_a_data_folder_that_lost_a_blob_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("laurel-data");
    let key = dir.path().join("laurel-data.key");
    let server = support::Server::start_full(
        &data,
        &root().join("rubrics"),
        &[],
        &["--key-file", key.to_str().unwrap()],
    );
    server.stop();
    let blobs = blobs(&data.join("db"));
    assert!(!blobs.is_empty());
    let log = std::fs::read(data.join("db/db")).unwrap();
    for blob in &blobs {
        std::fs::remove_file(blob).unwrap();
    }
    let (code, err) = serve_refused(&data, &key);
    assert_ne!(code, Some(0), "{err}");
    assert!(err.contains("is missing"), "{err}");
    assert!(
        err.contains("Restore the data folder from a backup"),
        "{err}"
    );
    // Nothing was written: the log is as it was.
    assert_eq!(std::fs::read(data.join("db/db")).unwrap(), log);
}

/// A server on `data` with the shipped rubrics installed (their published versions are sled
/// blobs), restarted so that nothing of them is in sled's cache; and the administrator's key.
fn restarted_with_rubrics(data: &Path, key: &Path) -> (support::Server, String) {
    let key_args = ["--key-file", key.to_str().unwrap()];
    let rubrics = root().join("rubrics");
    let first = support::Server::start_full(data, &rubrics, &[], &key_args);
    let admin = first.admin().to_owned();
    first.stop();
    let server = support::Server::start_full(data, &rubrics, &[], &key_args);
    (server, admin)
}

/// Data damaged on the disk while the server runs: the read that finds a checksum that does
/// not match answers 503 `/problems/storage-failed` saying so (not a 500), the store stops
/// (readiness 503, every later read refused), and the restart refuses the database, which
/// `laurel salvage` is then for.
#[test]
fn damaged_data_read_while_serving_stops_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (data, key) = (
        dir.path().join("laurel-data"),
        dir.path().join("laurel-data.key"),
    );
    let (server, admin) = restarted_with_rubrics(&data, &key);
    let mut damaged = 0;
    for blob in blobs(&data.join("db")) {
        let mut bytes = std::fs::read(&blob).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&blob, bytes).unwrap();
        damaged += 1;
    }
    assert!(damaged > 0);
    let (status, v) = server.get("/v1/awards/seoul-smart-city-prize-2023/versions/1", &admin);
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["type"], "/problems/storage-failed", "{v}");
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("the disk returned damaged data (a checksum did not match in the database's file `blobs/")
            && detail.contains("laurel salvage"),
        "{detail}"
    );
    // Every later read says the same, readiness too.
    let (status, v) = server.get("/v1/awards", &admin);
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["detail"].as_str().unwrap(), detail);
    let (status, v) = server.get("/v1/ready", &admin);
    assert_eq!(status, 503, "{v}");
    server.stop();
    let (code, err) = serve_refused(&data, &key);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("laurel salvage"), "{err}");
    // What the chain vouches for comes back, into a folder that verifies.
    let to = dir.path().join("salvaged");
    let (code, out) = support::laurel(&[
        "salvage",
        data.to_str().unwrap(),
        "--to",
        to.to_str().unwrap(),
    ]);
    assert!(code == Some(0) || code == Some(1), "{out}");
    assert!(out.contains("records recovered and verified"), "{out}");
    let (code, out) = support::laurel(&["audit", "verify", to.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}");
}

/// A blob file removed while the server runs (a mistaken clean-up, a failing disk): the read
/// that needs it answers 503 `/problems/storage-failed` naming the file, the store stops, and
/// the restart refuses the folder with the same name, before anything is written.
#[test]
fn a_blob_file_gone_while_serving_stops_the_store_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let (data, key) = (
        dir.path().join("laurel-data"),
        dir.path().join("laurel-data.key"),
    );
    let (server, admin) = restarted_with_rubrics(&data, &key);
    let gone = blobs(&data.join("db"));
    assert!(!gone.is_empty());
    for blob in &gone {
        std::fs::remove_file(blob).unwrap();
    }
    let (status, v) = server.get("/v1/awards/seoul-smart-city-prize-2023/versions/1", &admin);
    assert_eq!(status, 503, "{v}");
    assert_eq!(v["type"], "/problems/storage-failed", "{v}");
    let detail = v["detail"].as_str().unwrap();
    let named = gone.iter().any(|b| {
        detail.contains(&format!(
            "a file of the database is gone (the database's file `blobs/{}` is missing)",
            b.file_name().unwrap().to_string_lossy()
        ))
    });
    assert!(
        named && detail.contains("restore the data folder from a backup"),
        "{detail}"
    );
    let (status, v) = server.get("/v1/ready", &admin);
    assert_eq!(status, 503, "{v}");
    server.stop();
    let log = std::fs::read(data.join("db/db")).unwrap();
    let (code, err) = serve_refused(&data, &key);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("is missing") && err.contains("`blobs/"),
        "{err}"
    );
    assert_eq!(std::fs::read(data.join("db/db")).unwrap(), log);
}

/// The other side of the refusal: a database that lost nothing is never refused. A writer of
/// large values (blobs, which sled replaces and removes as it goes) and small ones, flushing
/// now and then, is killed at a random moment, again and again on the same folder; each time
/// the folder opens, and each key holds a value the writer wrote, no older than the last one
/// written before a flush that returned.
#[test]
fn a_killed_writer_leaves_a_database_that_opens_with_what_it_flushed() {
    const CHILD: &str = "LAUREL_TEST_SLED_WRITER";
    if let Ok(dir) = std::env::var(CHILD) {
        return write_until_killed(Path::new(&dir));
    }
    let dir = tempfile::tempdir().unwrap();
    // Per key: the steps written, and the last step flushed.
    let mut written: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut flushed_upto = 0u64;
    let mut start = 0u64;
    for round in 0..8u64 {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_killed_writer_leaves_a_database_that_opens_with_what_it_flushed",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, dir.path())
            .env("LAUREL_TEST_SLED_START", start.to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader =
            std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
        std::thread::sleep(std::time::Duration::from_millis(400 + round * 150));
        child.kill().unwrap();
        child.wait().unwrap();
        let said = reader.join().unwrap();
        for line in said.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["wrote", key, step] => {
                    let step: u64 = step.parse().unwrap();
                    written.entry((*key).to_owned()).or_default().push(step);
                    start = start.max(step + 1);
                }
                ["flushed", step] => flushed_upto = step.parse().unwrap(),
                _ => {}
            }
        }
        let db = open(dir.path()).unwrap_or_else(|e| panic!("round {round}: refused: {e}"));
        let tree = db.open_tree("t").unwrap();
        for (key, steps) in &written {
            let value = tree.get(key.as_bytes()).unwrap();
            // The newest step of this key at or before the last flush must be there, or a newer
            // one (written after it, kept by the kill's timing).
            let floor = steps.iter().filter(|s| **s <= flushed_upto).max();
            let Some(value) = value else {
                assert!(
                    floor.is_none(),
                    "round {round}: {key} lost (flushed step {floor:?})"
                );
                continue;
            };
            let step = steps
                .iter()
                .find(|s| value_of(key, **s) == value.as_ref())
                .unwrap_or_else(|| panic!("round {round}: {key} holds a value never written"));
            if let Some(floor) = floor {
                assert!(
                    step >= floor,
                    "round {round}: {key} holds step {step}, flushed {floor}"
                );
            }
        }
        drop(tree);
        drop(db);
        // A database that has been opened again is opened once more as it is: no refusal.
        open(dir.path()).unwrap();
    }
    assert!(
        flushed_upto > 100,
        "the writer flushed too little to test anything"
    );
    // What the kills left behind is gone once the folder has been opened: every blob file left
    // is one the data needs, and without it the folder is refused as it opens. Upstream, the
    // replaced blobs a killed process had not yet removed stayed for good (over a thousand
    // here), and a blob named by sled's snapshot of its page table was looked for only when
    // its page was read.
    let read_all = |db: &sled::Db| -> sled::Result<Vec<Option<sled::IVec>>> {
        let tree = db.open_tree("t")?;
        written.keys().map(|k| tree.get(k.as_bytes())).collect()
    };
    let values = read_all(&open(dir.path()).unwrap()).unwrap();
    let left = settled_blobs(dir.path());
    assert!(!left.is_empty(), "the large values are blobs");
    for blob in &left {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(dir.path(), copy.path());
        let name = blob.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::remove_file(copy.path().join("blobs").join(&name)).unwrap();
        match open(copy.path()).and_then(|db| read_all(&db)) {
            Err(e) => assert!(
                e.to_string()
                    .contains(&format!("`blobs/{name}` is missing")),
                "{e}"
            ),
            Ok(read) => panic!(
                "blob {name} is left ({} in all), yet the folder opens without it{}",
                left.len(),
                if read == values {
                    ", reading the same"
                } else {
                    " and reads other values"
                }
            ),
        }
    }
    println!(
        "{start} writes over 8 kills, the last flush at step {flushed_upto}; {} blob files left, \
         each needed",
        left.len()
    );
}

/// The value written under `key` at `step`: large (a blob) for the `k` keys, small for the rest.
fn value_of(key: &str, step: u64) -> Vec<u8> {
    let len = if key.starts_with('k') && !step.is_multiple_of(4) {
        140_000 + (step * 7_919 % 120_000) as usize
    } else {
        1 + (step * 31 % 2_000) as usize
    };
    (0..len).map(|i| (step as u8) ^ (i % 251) as u8).collect()
}

/// The killed child: writes and flushes until it is killed, saying what it wrote (before the
/// write) and each flush that returned.
fn write_until_killed(dir: &Path) {
    use std::io::Write as _;
    let db = open(dir).unwrap();
    let tree = db.open_tree("t").unwrap();
    let mut out = std::io::stdout().lock();
    let mut step: u64 = std::env::var("LAUREL_TEST_SLED_START")
        .unwrap()
        .parse()
        .unwrap();
    loop {
        let key = if step.is_multiple_of(3) {
            format!("k{}", step % 5)
        } else {
            format!("s{}", step * 13 % 97)
        };
        writeln!(out, "wrote {key} {step}").unwrap();
        out.flush().unwrap();
        tree.insert(key.as_bytes(), value_of(&key, step)).unwrap();
        if step.is_multiple_of(7) {
            db.flush().unwrap();
            writeln!(out, "flushed {step}").unwrap();
            out.flush().unwrap();
        }
        step += 1;
    }
}
