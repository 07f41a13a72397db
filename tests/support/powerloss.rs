//! A power loss, simulated from a trace of the server's system calls: the files under a folder
//! as a disk that keeps only what was synced would hold them at a given instant.
//!
//! The trace is `strace -f -ttt -T -y -xx -s N` of the calls in [`STRACE_CALLS`], from the
//! process's start. Replayed in the order the calls returned, it gives every change made under
//! the folder: data (`write`, `pwrite64`, `writev`, `pwritev`, `ftruncate`, `fallocate`, an
//! `openat` with `O_TRUNC`) and names (a file created, `mkdir`, `rename`, `unlink`). The model of
//! the disk after a power cut at an instant `t` is the strict one of POSIX, with no help from a
//! file system's journal:
//! - a file's data written before an `fsync`/`fdatasync` of that file was called, which returned
//!   by `t`, is kept; `sync_file_range` keeps nothing;
//! - a name made, moved or removed before an `fsync` of its folder (both folders for a `rename`)
//!   was called, which returned by `t`, is kept; any other name change is lost, so a file whose
//!   name was never synced is not there at all, whatever was synced of its data;
//! - what was not synced is lost ([`Trace::image`] with seed 0), or, in a draw (another seed),
//!   each unsynced write is lost, kept whole or kept in part, 4 KiB page by page, and a prefix
//!   of the unsynced name changes is kept, as a journal commits them in order.
//!
//! Only paths under the folder are modelled; the folder itself exists before the trace starts.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The calls the trace must hold (`strace -e trace=…`).
pub const STRACE_CALLS: &str = "openat,mkdir,mkdirat,write,pwrite64,writev,pwritev,pwritev2,\
ftruncate,fallocate,lseek,fsync,fdatasync,rename,renameat,renameat2,unlink,unlinkat";

/// The `strace` command line that writes such a trace to `out`, to be followed by the command
/// to run.
pub fn strace_args(out: &Path) -> Vec<String> {
    vec![
        "strace".into(),
        "-f".into(),
        "--seccomp-bpf".into(),
        "-ttt".into(),
        "-T".into(),
        "-y".into(),
        "-xx".into(),
        "-s".into(),
        "67108864".into(),
        "-e".into(),
        format!("trace={STRACE_CALLS}"),
        "-o".into(),
        out.display().to_string(),
        "--".into(),
    ]
}

/// A change to a file's bytes.
#[derive(Clone, Debug)]
enum Data {
    Write { at: u64, bytes: Vec<u8> },
    Truncate { len: u64 },
}

/// A change to the names under the folder (paths relative to it).
#[derive(Clone, Debug)]
enum Name {
    Create { path: String, file: usize },
    Mkdir { path: String },
    Rename { from: String, to: String },
    Unlink { path: String },
}

impl Name {
    /// The folders whose sync keeps this change.
    fn folders(&self) -> Vec<String> {
        match self {
            Name::Create { path, .. } | Name::Mkdir { path } | Name::Unlink { path } => {
                vec![parent(path)]
            }
            Name::Rename { from, to } => vec![parent(from), parent(to)],
        }
    }
}

#[derive(Clone, Debug)]
enum Kind {
    Data { file: usize, data: Data },
    SyncFile { file: usize },
    SyncFolder { path: String },
    Name(Name),
}

/// One call that returned successfully, from when it was made to when it returned (seconds).
#[derive(Clone, Debug)]
struct Event {
    start: f64,
    end: f64,
    kind: Kind,
}

/// The changes under one folder, read from a trace.
#[derive(Debug, Default)]
pub struct Trace {
    events: Vec<Event>,
}

/// What the live process saw while the trace is replayed: which file a name or a descriptor
/// stands for.
#[derive(Default)]
struct Live {
    names: HashMap<String, Node>,
    descriptors: HashMap<i64, (usize, u64)>,
    sizes: HashMap<usize, u64>,
    files: usize,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Node {
    File(usize),
    Folder,
}

/// A folder's contents after a power cut: files by path (relative), and the folders.
#[derive(Debug, Default, PartialEq)]
pub struct Image {
    pub files: BTreeMap<String, Vec<u8>>,
    pub folders: Vec<String>,
}

impl Trace {
    /// Reads a trace of the calls under `root` (an absolute path).
    pub fn parse(text: &str, root: &Path) -> Trace {
        let root = root.display().to_string();
        let mut pending: HashMap<&str, (f64, String)> = HashMap::new();
        let mut live = Live::default();
        live.names.insert(String::new(), Node::Folder);
        let mut events = Vec::new();
        for line in text.lines() {
            let mut fields = line.split_whitespace();
            let (Some(thread), Some(at)) = (fields.next(), fields.next()) else {
                continue;
            };
            let Ok(at) = at.parse::<f64>() else { continue };
            let Some(rest) = rest_after_two(line) else {
                continue;
            };
            let (start, call) = if let Some(resumed) = rest.strip_prefix("<... ") {
                let Some((start, head)) = pending.remove(thread) else {
                    continue;
                };
                let Some(tail) = resumed.split_once(" resumed>").map(|(_, t)| t) else {
                    continue;
                };
                (start, format!("{head}{tail}"))
            } else if let Some(head) = rest.strip_suffix("<unfinished ...>") {
                pending.insert(thread, (at, head.trim_end().to_owned()));
                continue;
            } else {
                (at, rest.to_owned())
            };
            let Some(call) = Call::read(&call, start, at) else {
                continue;
            };
            live.replay(&call, &root, &mut events);
        }
        Trace { events }
    }

    /// How many calls changed or synced something under the folder.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// How many files were created in the folder `folder` (relative).
    pub fn created_in(&self, folder: &str) -> usize {
        self.events
            .iter()
            .filter(|e| matches!(&e.kind, Kind::Name(Name::Create { path, .. }) if parent(path) == folder))
            .count()
    }

    /// The folder as the disk holds it after a power cut at `cut` (seconds, the trace's
    /// clock): only what was synced by then with `seed` 0; with another seed, a draw of what
    /// else the disk may have kept.
    pub fn image(&self, cut: f64, seed: u64) -> Image {
        let mut draw = Draw(seed);
        // For each file and folder, when the last sync that returned by the cut was called.
        let mut file_synced: HashMap<usize, f64> = HashMap::new();
        let mut folder_synced: HashMap<&str, f64> = HashMap::new();
        for e in self.events.iter().filter(|e| e.end <= cut) {
            match &e.kind {
                Kind::SyncFile { file } => {
                    let s = file_synced.entry(*file).or_insert(f64::MIN);
                    *s = s.max(e.start);
                }
                Kind::SyncFolder { path } => {
                    let s = folder_synced.entry(path).or_insert(f64::MIN);
                    *s = s.max(e.start);
                }
                _ => {}
            }
        }
        let mut order: Vec<&Event> = self.events.iter().filter(|e| e.start <= cut).collect();
        order.sort_by(|a, b| a.end.total_cmp(&b.end));
        // Names: the synced changes, and a prefix of the others in a draw.
        let unsynced: Vec<&Event> = order
            .iter()
            .copied()
            .filter(|e| matches!(&e.kind, Kind::Name(n) if !name_synced(n, e, &folder_synced)))
            .collect();
        let kept_unsynced = if seed == 0 {
            0
        } else {
            draw.below(unsynced.len() as u64 + 1) as usize
        };
        let mut names: HashMap<String, Node> = HashMap::new();
        names.insert(String::new(), Node::Folder);
        let mut unsynced_seen = 0;
        for e in &order {
            let Kind::Name(n) = &e.kind else { continue };
            if !name_synced(n, e, &folder_synced) {
                unsynced_seen += 1;
                if e.end > cut || unsynced_seen > kept_unsynced {
                    continue;
                }
            }
            apply_name(&mut names, n);
        }
        // Data: the synced writes, and in a draw some of the others, whole or in part.
        let mut contents: HashMap<usize, Vec<u8>> = HashMap::new();
        for e in &order {
            let Kind::Data { file, data } = &e.kind else {
                continue;
            };
            let synced = file_synced.get(file).is_some_and(|s| e.end < *s);
            let bytes = contents.entry(*file).or_default();
            match data {
                _ if synced => apply_data(bytes, data, None),
                _ if seed == 0 => {}
                Data::Truncate { .. } => {
                    if draw.below(2) == 0 {
                        apply_data(bytes, data, None);
                    }
                }
                Data::Write { .. } => match draw.below(3) {
                    0 => {}
                    1 => apply_data(bytes, data, None),
                    _ => apply_data(bytes, data, Some(&mut draw)),
                },
            }
        }
        let mut image = Image::default();
        for (path, node) in names {
            match node {
                Node::Folder if !path.is_empty() => image.folders.push(path),
                Node::Folder => {}
                Node::File(file) => {
                    image
                        .files
                        .insert(path, contents.remove(&file).unwrap_or_default());
                }
            }
        }
        image.folders.sort();
        image
    }
}

impl Image {
    /// Writes the folder's contents under `dest` (an empty folder).
    pub fn write_to(&self, dest: &Path) {
        for folder in &self.folders {
            std::fs::create_dir_all(dest.join(folder)).unwrap();
        }
        for (path, bytes) in &self.files {
            std::fs::write(dest.join(path), bytes).unwrap();
        }
    }
}

fn name_synced(name: &Name, e: &Event, folder_synced: &HashMap<&str, f64>) -> bool {
    name.folders()
        .iter()
        .all(|f| folder_synced.get(f.as_str()).is_some_and(|s| e.end < *s))
}

fn apply_name(names: &mut HashMap<String, Node>, name: &Name) {
    let has_parent =
        |names: &HashMap<String, Node>, p: &str| names.get(&parent(p)) == Some(&Node::Folder);
    match name {
        Name::Create { path, file } if has_parent(names, path) => {
            names.insert(path.clone(), Node::File(*file));
        }
        Name::Mkdir { path } if has_parent(names, path) => {
            names.insert(path.clone(), Node::Folder);
        }
        Name::Rename { from, to } if has_parent(names, to) => rename(names, from, to),
        Name::Unlink { path } => {
            names.remove(path);
        }
        _ => {}
    }
}

/// Moves `from` (a file, or a folder with everything under it) to `to`.
fn rename(names: &mut HashMap<String, Node>, from: &str, to: &str) {
    let moved: Vec<(String, Node)> = names
        .iter()
        .filter(|(p, _)| *p == from || p.starts_with(&format!("{from}/")))
        .map(|(p, n)| (p.clone(), *n))
        .collect();
    for (p, node) in moved {
        names.remove(&p);
        names.insert(format!("{to}{}", &p[from.len()..]), node);
    }
}

/// Applies a change to a file's bytes; with `torn`, a write keeps each of its 4 KiB pages
/// (counted from the file's start) only if the draw says so.
fn apply_data(bytes: &mut Vec<u8>, data: &Data, mut torn: Option<&mut Draw>) {
    match data {
        Data::Truncate { len } => bytes.resize(*len as usize, 0),
        Data::Write { at, bytes: written } => {
            let at = *at as usize;
            let end = at + written.len();
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            let mut from = at;
            while from < end {
                let to = end.min((from / 4096 + 1) * 4096);
                if torn.as_mut().is_none_or(|d| d.below(2) == 0) {
                    bytes[from..to].copy_from_slice(&written[from - at..to - at]);
                }
                from = to;
            }
        }
    }
}

fn parent(path: &str) -> String {
    path.rsplit_once('/')
        .map_or(String::new(), |(p, _)| p.to_owned())
}

/// What follows the thread and the time on a trace line.
fn rest_after_two(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let after_thread = line.find(char::is_whitespace)?;
    let rest = line[after_thread..].trim_start();
    let after_time = rest.find(char::is_whitespace)?;
    Some(rest[after_time..].trim_start())
}

/// A small deterministic draw (xorshift), so that a failing image can be made again.
struct Draw(u64);

impl Draw {
    fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0 ^ 0x9e37_79b9_7f4a_7c15;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x % n.max(1)
    }
}

/// One complete call: its name, arguments (split at the top level), return value and the
/// text after `=` (where `-y` puts the path of a returned descriptor).
struct Call {
    name: String,
    args: Vec<String>,
    ret: i64,
    ret_text: String,
    start: f64,
    end: f64,
}

impl Call {
    /// Reads `name(args) = ret … <duration>`; `at` is when the line was written (the return,
    /// for a resumed call; the call, for one written whole).
    fn read(text: &str, start: f64, at: f64) -> Option<Call> {
        let open = text.find('(')?;
        let name = text[..open].to_owned();
        let close = text.rfind(") = ")?;
        let args = split_args(&text[open + 1..close]);
        let ret_text = text[close + 4..].to_owned();
        let ret: i64 = ret_text
            .split(|c: char| !(c.is_ascii_digit() || c == '-'))
            .next()?
            .parse()
            .ok()?;
        let took: f64 = ret_text
            .rsplit_once('<')
            .and_then(|(_, t)| t.trim_end_matches('>').parse().ok())
            .unwrap_or(0.0);
        // A resumed call's line is written when it returned; a whole one when it was made.
        let end = if at > start { at } else { start + took };
        Some(Call {
            name,
            args,
            ret,
            ret_text,
            start,
            end,
        })
    }
}

impl Live {
    fn replay(&mut self, call: &Call, root: &str, events: &mut Vec<Event>) {
        if call.ret < 0 {
            return;
        }
        let mut push = |kind: Kind| {
            events.push(Event {
                start: call.start,
                end: call.end,
                kind,
            })
        };
        let under = |path: &str| -> Option<String> {
            if path == root {
                Some(String::new())
            } else {
                path.strip_prefix(root)
                    .and_then(|p| p.strip_prefix('/'))
                    .map(str::to_owned)
            }
        };
        let a = |i: usize| call.args.get(i).map_or("", String::as_str);
        match call.name.as_str() {
            "openat" => {
                let Some(path) = angle_path(&call.ret_text) else {
                    return;
                };
                let Some(rel) = under(&path) else { return };
                let flags = a(2);
                let file = match self.names.get(&rel) {
                    Some(Node::File(f)) => *f,
                    Some(Node::Folder) => return,
                    None if flags.contains("O_DIRECTORY") => return,
                    None => {
                        let f = self.files;
                        self.files += 1;
                        self.names.insert(rel.clone(), Node::File(f));
                        push(Kind::Name(Name::Create {
                            path: rel.clone(),
                            file: f,
                        }));
                        f
                    }
                };
                if flags.contains("O_TRUNC") {
                    self.sizes.insert(file, 0);
                    push(Kind::Data {
                        file,
                        data: Data::Truncate { len: 0 },
                    });
                }
                let at = if flags.contains("O_APPEND") {
                    self.size(file)
                } else {
                    0
                };
                self.descriptors.insert(call.ret, (file, at));
            }
            "mkdir" | "mkdirat" => {
                let path = if call.name == "mkdir" {
                    string(a(0))
                } else {
                    joined(a(0), a(1))
                };
                if let Some(rel) = under(&path) {
                    self.names.insert(rel.clone(), Node::Folder);
                    push(Kind::Name(Name::Mkdir { path: rel }));
                }
            }
            "write" | "pwrite64" | "writev" | "pwritev" | "pwritev2" => {
                let Some(file) = self.file(a(0), &under) else {
                    return;
                };
                let fd = descriptor(a(0));
                let mut bytes = if call.name.contains("writev") {
                    iovecs(a(1))
                } else {
                    string_bytes(a(1))
                };
                bytes.truncate(call.ret as usize);
                let at = if call.name.starts_with('p') {
                    a(3).parse().unwrap_or(0)
                } else {
                    self.descriptors.get(&fd).map_or(0, |(_, at)| *at)
                };
                if !call.name.starts_with('p')
                    && let Some((_, pos)) = self.descriptors.get_mut(&fd)
                {
                    *pos = at + bytes.len() as u64;
                }
                let size = self.size(file).max(at + bytes.len() as u64);
                self.sizes.insert(file, size);
                push(Kind::Data {
                    file,
                    data: Data::Write { at, bytes },
                });
            }
            "ftruncate" | "fallocate" => {
                let Some(file) = self.file(a(0), &under) else {
                    return;
                };
                let len = if call.name == "ftruncate" {
                    a(1).parse().unwrap_or(0)
                } else if a(1) == "0" {
                    let (at, n): (u64, u64) =
                        (a(2).parse().unwrap_or(0), a(3).parse().unwrap_or(0));
                    self.size(file).max(at + n)
                } else {
                    return;
                };
                self.sizes.insert(file, len);
                push(Kind::Data {
                    file,
                    data: Data::Truncate { len },
                });
            }
            "lseek" => {
                if let Some((_, pos)) = self.descriptors.get_mut(&descriptor(a(0))) {
                    *pos = call.ret as u64;
                }
            }
            "fsync" | "fdatasync" => {
                let Some(rel) = angle_path(a(0)).and_then(|p| under(&p)) else {
                    return;
                };
                match self.names.get(&rel) {
                    Some(Node::File(file)) => push(Kind::SyncFile { file: *file }),
                    Some(Node::Folder) => push(Kind::SyncFolder { path: rel }),
                    None => {}
                }
            }
            "rename" | "renameat" | "renameat2" => {
                let (from, to) = if call.name == "rename" {
                    (string(a(0)), string(a(1)))
                } else {
                    (joined(a(0), a(1)), joined(a(2), a(3)))
                };
                let (Some(from), Some(to)) = (under(&from), under(&to)) else {
                    return;
                };
                rename(&mut self.names, &from, &to);
                push(Kind::Name(Name::Rename { from, to }));
            }
            "unlink" | "unlinkat" => {
                let path = if call.name == "unlink" {
                    string(a(0))
                } else {
                    joined(a(0), a(1))
                };
                if let Some(rel) = under(&path) {
                    self.names.remove(&rel);
                    push(Kind::Name(Name::Unlink { path: rel }));
                }
            }
            _ => {}
        }
    }

    fn size(&self, file: usize) -> u64 {
        self.sizes.get(&file).copied().unwrap_or(0)
    }

    /// The file a descriptor argument (`3</path>`) stands for, if it is under the folder.
    fn file(&self, arg: &str, under: &dyn Fn(&str) -> Option<String>) -> Option<usize> {
        let rel = under(&angle_path(arg)?)?;
        match self.names.get(&rel) {
            Some(Node::File(f)) => Some(*f),
            _ => None,
        }
    }
}

/// Splits arguments at the commas outside quotes and brackets.
fn split_args(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let (mut depth, mut quoted, mut escaped) = (0i32, false, false);
    let mut current = String::new();
    for c in text.chars() {
        if quoted {
            current.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            ',' if depth == 0 => {
                args.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        args.push(current.trim().to_owned());
    }
    args
}

/// The descriptor number of `3</path>`.
fn descriptor(arg: &str) -> i64 {
    arg.split('<')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1)
}

/// The path `-y` prints in angle brackets (`3</path>`, `AT_FDCWD</cwd>`).
fn angle_path(text: &str) -> Option<String> {
    let open = text.find('<')?;
    let close = text[open..].find('>')? + open;
    Some(String::from_utf8_lossy(&unescape(&text[open + 1..close])).into_owned())
}

/// A path argument relative to a folder descriptor (`AT_FDCWD</cwd>, "name"`).
fn joined(folder: &str, name: &str) -> String {
    let name = string(name);
    if name.starts_with('/') {
        name
    } else {
        format!("{}/{name}", angle_path(folder).unwrap_or_default())
    }
}

fn string(arg: &str) -> String {
    String::from_utf8_lossy(&string_bytes(arg)).into_owned()
}

/// The bytes of a quoted argument (`"\x61\x62"`); what `-s` cut off is not there, so the
/// trace is taken with an `-s` larger than any write.
fn string_bytes(arg: &str) -> Vec<u8> {
    let Some(open) = arg.find('"') else {
        return Vec::new();
    };
    let Some(close) = arg.rfind('"') else {
        return Vec::new();
    };
    if close <= open {
        return Vec::new();
    }
    // strace marks a string it cut short (longer than `-s`) with `...` after its quote: the
    // write's bytes would be missing from the model.
    assert!(
        !arg[close + 1..].starts_with("..."),
        "a write longer than strace's -s was cut short: raise it in strace_args"
    );
    unescape(&arg[open + 1..close])
}

/// The bytes of every `iov_base="…"` of a `writev`'s vector, in order.
fn iovecs(arg: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    for part in arg.split("iov_base=").skip(1) {
        let end = part.find("\", iov_len").map_or(part.len(), |e| e + 1);
        bytes.extend(string_bytes(&part[..end]));
    }
    bytes
}

/// C escapes as strace writes them (`\xNN`, `\n`, `\t`, `\"`, `\\`, octal).
fn unescape(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len() / 4);
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match b[i + 1] {
            b'x' if i + 3 < b.len() => {
                out.push(hex(b[i + 2]) << 4 | hex(b[i + 3]));
                i += 4;
            }
            b'n' => {
                out.push(b'\n');
                i += 2;
            }
            b't' => {
                out.push(b'\t');
                i += 2;
            }
            b'r' => {
                out.push(b'\r');
                i += 2;
            }
            b'v' => {
                out.push(0x0b);
                i += 2;
            }
            b'f' => {
                out.push(0x0c);
                i += 2;
            }
            d @ b'0'..=b'7' => {
                let mut v = u32::from(d - b'0');
                let mut j = i + 2;
                while j < b.len() && j < i + 4 && (b'0'..=b'7').contains(&b[j]) {
                    v = v * 8 + u32::from(b[j] - b'0');
                    j += 1;
                }
                out.push(v as u8);
                i = j;
            }
            c => {
                out.push(c);
                i += 2;
            }
        }
    }
    out
}
