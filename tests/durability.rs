//! Every acknowledged write survives a crash: the server is killed with SIGKILL in the middle
//! of a stream of writes, restarted, and every write it acknowledged is there.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

#[path = "support/powerloss.rs"]
mod powerloss;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Server, root};

const AWARD: &str = "seoul-smart-city-prize-2023";

#[test]
fn acknowledged_writes_survive_sigkill() {
    trial(8);
}

/// Sixteen writers share flushes (group commit): each is still durable before its answer.
#[test]
fn acknowledged_writes_of_sixteen_writers_survive_sigkill() {
    trial(16);
}

/// A server on `data` with the Seoul call open: it, an integrator's key, and the example's
/// first application.
fn open_seoul(data: &std::path::Path) -> (Server, String, serde_json::Value) {
    open_seoul_with(data, &[])
}

/// [`open_seoul`], the server started with `env` (see `Server::start_with`).
fn open_seoul_with(
    data: &std::path::Path,
    env: &[(&str, &str)],
) -> (Server, String, serde_json::Value) {
    open_seoul_on(Server::start_with(data, &root().join("rubrics"), env))
}

/// [`open_seoul`] on a server already started.
fn open_seoul_on(server: Server) -> (Server, String, serde_json::Value) {
    let admin = server.admin().to_owned();
    assert_eq!(
        server
            .post(&format!("/v1/awards/{AWARD}/open"), &admin, &json!({}))
            .0,
        200
    );
    let applicant = server.key("integrator", None);
    let apps: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("examples/seoul-smart-city-prize-2023/applications.json"),
        )
        .unwrap(),
    )
    .unwrap();
    (server, applicant, apps[0].clone())
}

#[allow(clippy::print_stdout)] // what the trial found, with --nocapture
fn trial(count: usize) {
    let data = tempfile::tempdir().unwrap();
    let (server, applicant, template) = open_seoul(data.path());
    let url = server.url.clone();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    // Writers in pairs race on the same ids (one of each pair may win each id), so every
    // acknowledged write must be there with its own content, never its rival's.
    let writers: Vec<_> = (0..count)
        .map(|w| {
            let (url, acknowledged, stop, applicant, template) = (
                url.clone(),
                acknowledged.clone(),
                stop.clone(),
                applicant.clone(),
                template.clone(),
            );
            std::thread::spawn(move || {
                for n in 0..10_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let mut app = template.clone();
                    let id = format!("w{}-{n}", w / 2);
                    app["id"] = json!(id);
                    app["fields"]["project_title"] = json!(format!("written by {w}"));
                    let url = format!("{url}/v1/awards/{AWARD}/applications");
                    let response = ureq::post(&url)
                        .header("Authorization", &format!("Bearer {applicant}"))
                        .send(app.to_string().as_bytes());
                    match response {
                        Ok(r) if r.status().as_u16() == 201 => acknowledged
                            .lock()
                            .unwrap()
                            .push((id, format!("written by {w}"))),
                        // Its rival created this id first: a conflict, nothing written.
                        Err(ureq::Error::StatusCode(409)) => {}
                        _ => break,
                    }
                }
            })
        })
        .collect();
    let start = Instant::now();
    while acknowledged.lock().unwrap().len() < 60 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Kill while the writers are still writing.
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let _ = w.join();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 60,
        "only {} writes were acknowledged",
        acknowledged.len()
    );
    let restarted = Server::start(data.path(), &root().join("rubrics"));
    let (_, listed) = restarted.get(&format!("/v1/awards/{AWARD}/applications"), &applicant);
    let stored: std::collections::BTreeMap<String, String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                a["application"]["fields"]["project_title"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    let lost: Vec<&(String, String)> = acknowledged
        .iter()
        .filter(|(id, content)| stored.get(id) != Some(content))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost: {lost:?}",
        lost.len()
    );
    println!(
        "{count} writers: {} acknowledged writes, all present after SIGKILL and restart",
        acknowledged.len()
    );
    restarted.stop();
    let (code, out) = support::audit_verify(data.path());
    assert_eq!(code, Some(0), "{out}");
}

/// The disk refuses a write (here no file may grow past 2 MiB, as a full disk would refuse it):
/// that write is answered 503, and the server stops serving its data rather than serve what it
/// applied in memory but could not store (before, the write refused with a 500 could be read
/// back, and readiness said ready). After a restart without the limit, every write answered
/// 201 is there and the audit chain verifies.
#[test]
fn a_disk_that_refuses_a_write_stops_the_store_instead_of_serving_what_it_lost() {
    let data = tempfile::tempdir().unwrap();
    let (server, applicant, template) =
        open_seoul_with(data.path(), &[("LAUREL_TEST_FILE_SIZE_LIMIT", "2097152")]);
    let admin = server.admin().to_owned();
    let mut acknowledged = Vec::new();
    let (refused, status, answer) = loop {
        let n = acknowledged.len();
        assert!(n < 20_000, "the disk took {n} applications of 2 MiB");
        let mut app = template.clone();
        let id = format!("d-{n}");
        app["id"] = json!(id);
        let (status, v) = server.post(
            &format!("/v1/awards/{AWARD}/applications"),
            &applicant,
            &app,
        );
        if status != 201 {
            break (id, status, v);
        }
        acknowledged.push(id);
    };
    assert!(
        acknowledged.len() >= 10,
        "{} stored first",
        acknowledged.len()
    );
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["type"], "/problems/storage-failed", "{answer}");
    let detail = answer["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("the disk refused a write"), "{detail}");
    assert!(detail.contains("restart"), "{detail}");
    // Nothing of what it holds in memory is served: not the refused write, not an earlier one.
    for id in [&refused, &acknowledged[0]] {
        let (status, v) = server.get(&format!("/v1/awards/{AWARD}/applications/{id}"), &applicant);
        assert_eq!(status, 503, "{id}: {v}");
        assert_eq!(v["type"], "/problems/storage-failed", "{v}");
    }
    let (status, v) = server.get("/v1/ready", &admin);
    assert_eq!(status, 503, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("the disk refused a write"),
        "{v}"
    );
    // The process itself still runs.
    assert_eq!(server.get("/v1/health", &admin).0, 200);
    server.stop();
    // Restarted with room on the disk: every acknowledged write, and a chain that verifies.
    let restarted = Server::start(data.path(), &root().join("rubrics"));
    for id in &acknowledged {
        let (status, v) =
            restarted.get(&format!("/v1/awards/{AWARD}/applications/{id}"), &applicant);
        assert_eq!(status, 200, "{id}: {v}");
    }
    assert_eq!(restarted.get("/v1/ready", &admin).0, 200);
    restarted.stop();
    let (code, out) = support::audit_verify(data.path());
    assert_eq!(code, Some(0), "{out}");
}

/// Durable means through `fdatasync`, not only sled's `sync_file_range` (which flushes neither
/// the drive's cache nor the file's size): the server's system calls are traced while one
/// client writes, and between each write's request and its answer the server called
/// `fdatasync` on its log, and it returned.
#[test]
fn each_acknowledged_write_went_through_fdatasync_of_the_log() {
    let data = tempfile::tempdir().unwrap();
    let (server, applicant, template) = open_seoul(data.path());
    let trace = data.path().join("syscalls.txt");
    let mut strace = std::process::Command::new("strace")
        .args([
            "-f",
            "-ttt",
            "-T",
            "-y",
            "-e",
            "trace=fdatasync,fsync,sync_file_range",
        ])
        .arg("-o")
        .arg(&trace)
        .args(["-p", &server.pid().to_string()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("strace (tests/run installs it)");
    // Attached once it says so for the process's threads.
    std::thread::sleep(Duration::from_secs(2));
    let seconds = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let mut windows = Vec::new();
    for i in 0..20 {
        let mut app = template.clone();
        app["id"] = json!(format!("traced-{i}"));
        let sent = seconds();
        let (status, v) = server.post(
            &format!("/v1/awards/{AWARD}/applications"),
            &applicant,
            &app,
        );
        let answered = seconds();
        assert_eq!(status, 201, "{v}");
        windows.push((sent, answered));
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &strace.id().to_string()])
        .status();
    let _ = strace.wait();
    let text = std::fs::read_to_string(&trace).unwrap();
    let syncs = completed_fdatasyncs(&text);
    assert!(!syncs.is_empty(), "no fdatasync of the log traced:\n{text}");
    for (i, (sent, answered)) in windows.iter().enumerate() {
        assert!(
            syncs
                .iter()
                .any(|(start, end)| start >= sent && end <= answered),
            "write {i} ({sent:.6} to {answered:.6}) was answered without an fdatasync of the log in between; traced:\n{text}"
        );
    }
}

/// Every `fdatasync` of the log that returned 0, as (called, returned) seconds, from `strace -f
/// -ttt -T -y` lines. A call another thread interrupted is printed in two lines, `… <unfinished
/// ...>` and, later, `<thread> <time> <... fdatasync resumed>) = 0 <took>`, paired by thread.
fn completed_fdatasyncs(text: &str) -> Vec<(f64, f64)> {
    let mut pending: std::collections::HashMap<&str, f64> = std::collections::HashMap::new();
    let mut syncs = Vec::new();
    for line in text.lines() {
        let mut parts = line.split_whitespace();
        let (Some(thread), Some(at)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Ok(at) = at.parse::<f64>() else { continue };
        if line.contains(" fdatasync(") && line.contains("/db>") {
            if line.ends_with("<unfinished ...>") {
                pending.insert(thread, at);
            } else if line.contains(") = 0 <") {
                let took: Option<f64> = line
                    .rsplit('<')
                    .next()
                    .and_then(|t| t.trim_end_matches('>').parse().ok());
                if let Some(took) = took {
                    syncs.push((at, at + took));
                }
            }
        } else if line.contains("<... fdatasync resumed>) = 0 <")
            && let Some(start) = pending.remove(thread)
        {
            syncs.push((start, at));
        }
    }
    syncs
}

#[test]
fn an_interrupted_fdatasync_counts_from_its_call_to_its_return() {
    let text = "7 10.000000 fdatasync(4</t/db/db> <unfinished ...>\n\
                8 10.000100 fsync(3</t/db/db>) = 0 <0.000200>\n\
                7 10.000300 <... fdatasync resumed>) = 0 <0.000300>\n\
                7 11.000000 fdatasync(4</t/db/db>) = 0 <0.000500>\n\
                9 12.000000 fdatasync(4</t/db/db> <unfinished ...>\n\
                9 12.000300 <... fdatasync resumed>) = -1 EIO (Input/output error) <0.000300>\n";
    let micros: Vec<(i64, i64)> = completed_fdatasyncs(text)
        .into_iter()
        .map(|(a, b)| ((a * 1e6).round() as i64, (b * 1e6).round() as i64))
        .collect();
    assert_eq!(
        micros,
        vec![(10_000_000, 10_000_300), (11_000_000, 11_000_500)]
    );
}

/// The threads that run writes (and wait for their flushes) are scheduled below the threads
/// that answer every other request, so that a load of writes does not keep a health check or
/// a page waiting for a core: each `laurel-write` thread has `nice` 5, each `laurel-request`
/// thread the process's own 0 (read from `/proc`, as the kernel schedules them).
#[test]
fn the_writes_threads_yield_to_the_threads_that_answer_the_rest() {
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(data.path(), &root().join("rubrics"));
    // A new thread names itself, then lowers itself, in its first instructions (std's
    // spawn, then tokio's `on_thread_start`): read in between, on a loaded machine, it is
    // still `laurel` or still at 0. So the threads are read until they have all started, for
    // at most ten seconds.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let niceness = niceness_by_thread_name(server.pid());
        let of = |name: &str| niceness.get(name).cloned().unwrap_or_default();
        let (writes, requests) = (of("laurel-write"), of("laurel-request"));
        assert!(requests.iter().all(|n| *n == 0), "{niceness:?}");
        if !writes.is_empty() && !requests.is_empty() && writes.iter().all(|n| *n == 5) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "a write thread kept the process's priority: {niceness:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Each of a process's threads' `nice`, by the threads' names, read from `/proc`.
fn niceness_by_thread_name(pid: u32) -> std::collections::BTreeMap<String, Vec<i64>> {
    let mut niceness: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let task = task.unwrap().path();
        let (Ok(name), Ok(stat)) = (
            std::fs::read_to_string(task.join("comm")),
            std::fs::read_to_string(task.join("stat")),
        ) else {
            continue; // the thread ended while the folder was read
        };
        // The fields after the command's closing parenthesis; `nice` is the 19th field of
        // the line, the 17th of these.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        niceness
            .entry(name.trim().to_owned())
            .or_default()
            .push(fields[16].parse().unwrap());
    }
    niceness
}

/// A power cut keeps only what was synced: the server's system calls are traced from its start
/// while four clients submit applications and an administrator uploads files (stored by sled
/// as files of their own), and the data folder is rebuilt as a disk that kept nothing but
/// what was synced would hold it (`support/powerloss.rs`) at instants just after an answer,
/// and in draws where the disk also kept some of the rest, whole or torn. A server started on
/// each image has every write acknowledged by then, with its content, says it is ready, and
/// its audit chain verifies.
#[test]
#[allow(clippy::print_stdout)] // what the trial found, with --nocapture
fn acknowledged_writes_survive_a_power_cut_that_keeps_only_what_was_synced() {
    let data = tempfile::tempdir().unwrap();
    let traces = tempfile::tempdir().unwrap();
    let trace = traces.path().join("syscalls.txt");
    let (server, applicant, template) = open_seoul_on(Server::start_wrapped(
        data.path(),
        &powerloss::strace_args(&trace),
    ));
    let admin = server.admin().to_owned();
    let url = server.url.clone();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (url, applicant, template) = (url.clone(), applicant.clone(), template.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for n in 0..60 {
                    let mut app = template.clone();
                    let (id, title) = (format!("p{w}-{n}"), format!("written by {w} as {n}"));
                    app["id"] = json!(id);
                    app["fields"]["project_title"] = json!(title);
                    let response = ureq::post(&format!("{url}/v1/awards/{AWARD}/applications"))
                        .header("Authorization", &format!("Bearer {applicant}"))
                        .send(app.to_string().as_bytes())
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 201);
                    acknowledged.push((now(), id, title));
                }
                acknowledged
            })
        })
        .collect();
    // Meanwhile an administrator uploads files too large for sled's log (each stored as a
    // file of its own, a blob, which the log then points to).
    let uploader = {
        let (url, admin) = (url.clone(), admin.clone());
        std::thread::spawn(move || {
            let mut uploaded = Vec::new();
            for n in 0..10u64 {
                let mut x = n + 1;
                let bytes: Vec<u8> = (0..150_000 + n * 10_000)
                    .map(|_| {
                        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        (x >> 56) as u8
                    })
                    .collect();
                let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
                let response = ureq::put(&format!("{url}/v1/files/{sha}"))
                    .header("Authorization", &format!("Bearer {admin}"))
                    .send(&bytes[..])
                    .unwrap();
                assert_eq!(response.status().as_u16(), 201);
                uploaded.push((now(), sha));
            }
            uploaded
        })
    };
    let mut acknowledged: Vec<(f64, String, String)> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    acknowledged.sort_by(|a, b| a.0.total_cmp(&b.0));
    let uploaded = uploader.join().unwrap();
    server.stop();
    let stopped = now();
    let log = std::fs::metadata(data.path().join("db/db")).unwrap().len();
    let root = data.path().canonicalize().unwrap();
    let trace = powerloss::Trace::parse(&std::fs::read_to_string(&trace).unwrap(), &root);
    // sled wrote pages too large for its log as files of their own (the path a power cut once
    // broke): each version of the node holding the uploads is one.
    let blobs = trace.created_in("db/blobs");
    assert!(blobs >= uploaded.len(), "{blobs} blob files written");
    let n = acknowledged.len();
    let mut cuts: Vec<f64> = [0, n / 4, n / 2, 3 * n / 4, n - 1]
        .iter()
        .map(|&i| acknowledged[i].0)
        .collect();
    cuts.push(stopped);
    let mut images = 0;
    for (c, cut) in cuts.iter().enumerate() {
        for seed in [0, 1 + c as u64] {
            let image = trace.image(*cut, seed);
            let folder = tempfile::tempdir().unwrap();
            image.write_to(folder.path());
            let what = format!(
                "power cut {c} at {cut:.6}, draw {seed}, the folder kept {:?} and {:?}",
                image.folders,
                image
                    .files
                    .iter()
                    .map(|(p, b)| format!("{p} ({} bytes)", b.len()))
                    .collect::<Vec<_>>()
            );
            // Printed when the server does not start on the image.
            eprintln!("{what}");
            let restarted = Server::start(folder.path(), &root_of_rubrics());
            for (_, id, title) in acknowledged.iter().filter(|(at, ..)| at <= cut) {
                let (status, v) =
                    restarted.get(&format!("/v1/awards/{AWARD}/applications/{id}"), &applicant);
                assert_eq!(status, 200, "{what}: {id} lost: {v}");
                assert_eq!(
                    v["application"]["fields"]["project_title"], *title,
                    "{what}: {id}"
                );
            }
            // Each upload answered by then is in the audit chain (whose check, below, compares
            // every stored value with what its record says was written).
            let mut recorded = std::collections::BTreeSet::new();
            let mut after = 0;
            loop {
                let (status, page) = restarted.get(&format!("/v1/audit?after={after}"), &admin);
                assert_eq!(status, 200, "{what}: {page}");
                let page = page.as_array().unwrap().clone();
                let Some(last) = page.last() else { break };
                after = last["seq"].as_u64().unwrap();
                for r in &page {
                    if r["action"] == "file.upload" {
                        recorded.insert(r["target"].as_str().unwrap().to_owned());
                    }
                }
            }
            for (_, sha) in uploaded.iter().filter(|(at, _)| at <= cut) {
                assert!(recorded.contains(sha), "{what}: the upload of {sha} lost");
            }
            let (status, v) = restarted.get("/v1/ready", &admin);
            assert_eq!(status, 200, "{what}: {v}");
            restarted.stop();
            let (code, out) = support::audit_verify(folder.path());
            assert_eq!(code, Some(0), "{what}: {out}");
            images += 1;
        }
    }
    println!(
        "{n} acknowledged writes and {} uploads ({log} bytes of log, {blobs} blob files written); {} \
         calls changed or synced the data folder; {images} images after a power cut, every \
         acknowledged write in each",
        uploaded.len(),
        trace.len()
    );
}

fn root_of_rubrics() -> std::path::PathBuf {
    root().join("rubrics")
}

/// The power-cut model itself, on a trace written by hand: a file's data is kept once the
/// file was synced, its name once its folder was; a call split over two lines counts from
/// its start to its end; a rename is kept with the folder's sync, with what was synced under
/// the old name.
#[test]
fn a_power_cut_keeps_synced_data_under_synced_names_only() {
    let text = r#"1 10.000000 openat(AT_FDCWD</r>, "\x2f\x72\x2f\x66", O_WRONLY|O_CREAT|O_CLOEXEC, 0666) = 3</r/f> <0.000010>
1 10.100000 write(3</r/f>, "\x61\x62", 2) = 2 <0.000010>
1 10.200000 fdatasync(3</r/f> <unfinished ...>
2 10.210000 pwrite64(3</r/f>, "\x63", 1, 1) = 1 <0.000010>
1 10.250000 <... fdatasync resumed>) = 0 <0.050000>
1 10.300000 writev(3</r/f>, [{iov_base="\x64", iov_len=1}, {iov_base="\x65", iov_len=1}], 2) = 2 <0.000010>
1 10.400000 openat(AT_FDCWD</r>, "/r", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 4</r> <0.000010>
1 10.500000 fsync(4</r>) = 0 <0.000010>
1 10.600000 rename("/r/f", "/r/g") = 0 <0.000010>
1 10.700000 fsync(4</r>) = 0 <0.000010>
1 10.800000 fsync(3</r/g>) = 0 <0.000010>
"#;
    let trace = powerloss::Trace::parse(text, std::path::Path::new("/r"));
    let files = |cut: f64| trace.image(cut, 0).files;
    // Before its folder was synced, the file's name is not kept, whatever of its data was.
    assert!(files(10.45).is_empty(), "{:?}", files(10.45));
    // Its name synced: "ab" (the write before the fdatasync was called); "c" was written
    // while it ran, and "de" after.
    assert_eq!(files(10.55).get("f").map(Vec::as_slice), Some(&b"ab"[..]));
    // Renamed, but the rename not yet synced: still "f".
    assert_eq!(files(10.65).keys().collect::<Vec<_>>(), ["f"]);
    assert_eq!(files(10.75).get("g").map(Vec::as_slice), Some(&b"ab"[..]));
    // Synced again: everything written, the writev at the file's position after "ab".
    assert_eq!(files(10.9).get("g").map(Vec::as_slice), Some(&b"acde"[..]));
    // Draws keep what was synced and, across draws, sometimes more.
    let drawn: Vec<Vec<u8>> = (1..40)
        .map(|seed| trace.image(10.75, seed).files["g"].clone())
        .collect();
    assert!(drawn.iter().all(|d| d.starts_with(b"a")), "{drawn:?}");
    assert!(drawn.iter().any(|d| d.as_slice() != b"ab"), "{drawn:?}");
}

/// A disk that damages a file sled wrote beside its log (a blob, here the stored award
/// definitions) makes sled's recovery stop reading the log there: the database comes back cut
/// short, without the writes after it. The server refuses to serve it (before, it started,
/// installed the shipped rubrics again as new drafts, and served a prize whose call and
/// applications were gone), and says why.
#[test]
fn a_database_cut_short_by_a_damaged_file_is_refused_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("laurel-data");
    let key = dir.path().join("laurel-data.key");
    let server = Server::start_full(
        &data,
        &root().join("rubrics"),
        &[],
        &["--key-file", key.to_str().unwrap()],
    );
    let (server, applicant, template) = open_seoul_on(server);
    for i in 0..3 {
        let mut app = template.clone();
        app["id"] = json!(format!("kept-{i}"));
        let (status, v) = server.post(
            &format!("/v1/awards/{AWARD}/applications"),
            &applicant,
            &app,
        );
        assert_eq!(status, 201, "{v}");
    }
    server.stop();
    let mut damaged = 0;
    for blob in std::fs::read_dir(data.join("db/blobs")).unwrap() {
        let path = blob.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        for b in &mut bytes[100..104] {
            *b ^= 0xff;
        }
        std::fs::write(&path, bytes).unwrap();
        damaged += 1;
    }
    assert!(damaged > 0);
    let (code, err) = support::serve_refused(&[
        "--data",
        data.to_str().unwrap(),
        "--key-file",
        key.to_str().unwrap(),
        "--rubrics",
        root().join("rubrics").to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("does not hold record"), "{err}");
    assert!(err.contains("laurel salvage"), "{err}");
}
