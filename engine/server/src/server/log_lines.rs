//! The log, written by a thread of its own. A request hands its line over and goes on: when
//! the log's reader (a terminal, a pipe, a log collector) stops taking lines, the lines waiting
//! fill a bounded queue, and the next ones are dropped and counted (`/metrics`:
//! `laurel_log_lines_dropped_total`), never waited for. Before, every request wrote its line
//! itself, and a reader that stopped reading stalled every request once the pipe was full.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

/// The most lines waiting to be written (a few MiB of log): a reader's short pause loses
/// nothing; a reader that stopped costs this much memory, then drops lines.
pub const WAITING_LINES: usize = 8_192;

/// Lines dropped so far: the queue was full, or the log could not be written.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Lines written so far.
static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Lines dropped so far because the log's reader did not keep up (or the log failed).
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

enum Message {
    Line(Vec<u8>),
    /// Write what is waiting, then say so.
    Flush(SyncSender<()>),
}

/// Where the log's lines go: the queue to the writing thread. One `tracing` event is one line,
/// handed over whole when the event's writer is dropped.
#[derive(Clone)]
pub struct Lines {
    queue: SyncSender<Message>,
}

/// Starts the thread that writes the log's lines to `out`, batching the lines waiting into one
/// write each time it wakes.
pub fn start(out: impl Write + Send + 'static) -> std::io::Result<Lines> {
    let (queue, waiting) = sync_channel(WAITING_LINES);
    std::thread::Builder::new()
        .name("laurel-log".into())
        .spawn(move || write_lines(out, waiting))?;
    Ok(Lines { queue })
}

fn write_lines(out: impl Write, waiting: Receiver<Message>) {
    let mut out = std::io::BufWriter::with_capacity(64 << 10, out);
    while let Ok(first) = waiting.recv() {
        let mut next = Some(first);
        let mut lines = 0u64;
        let mut acks = Vec::new();
        while let Some(m) = next {
            match m {
                Message::Line(line) => {
                    if out.write_all(&line).is_ok() {
                        lines += 1;
                    } else {
                        DROPPED.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Message::Flush(ack) => acks.push(ack),
            }
            next = waiting.try_recv().ok();
        }
        // Nothing else waiting: out with what was batched (a failed flush loses the batch).
        if out.flush().is_err() {
            DROPPED.fetch_add(lines, Ordering::Relaxed);
            lines = 0;
        }
        WRITTEN.fetch_add(lines, Ordering::Relaxed);
        for ack in acks {
            let _ = ack.send(());
        }
        // Lines handed over meanwhile wake nobody (the thread is not waiting on the queue): the
        // next batch is taken in one go. Waking this thread for every line cost each request
        // more than writing its line itself had.
        std::thread::sleep(BATCH_WINDOW);
    }
}

/// How long the writing thread lets lines gather after writing a batch, before it looks again
/// (then waits on the queue, woken by the next line, when none came).
const BATCH_WINDOW: Duration = Duration::from_millis(5);

impl Lines {
    /// Waits, at most `limit`, for the lines handed over so far to be written (at exit).
    pub fn flush(&self, limit: Duration) {
        let deadline = std::time::Instant::now() + limit;
        let (ack, done) = sync_channel(1);
        let mut ask = Message::Flush(ack);
        loop {
            match self.queue.try_send(ask) {
                Ok(()) => {
                    let _ = done.recv_timeout(
                        deadline.saturating_duration_since(std::time::Instant::now()),
                    );
                    return;
                }
                // The queue full: wait for room, as long as the limit allows.
                Err(TrySendError::Full(back)) if std::time::Instant::now() < deadline => {
                    ask = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => return,
            }
        }
    }

    /// Says in the log, once the log is written again, how many lines were dropped meanwhile:
    /// checks every `every`. A warning while the reader is still stuck would only be dropped
    /// too, so it waits for lines to be written again.
    pub async fn report_drops(every: Duration) {
        let (mut reported, mut written) = (0, WRITTEN.load(Ordering::Relaxed));
        loop {
            tokio::time::sleep(every).await;
            let (now_dropped, now_written) = (dropped(), WRITTEN.load(Ordering::Relaxed));
            if now_dropped > reported && now_written > written {
                tracing::warn!(
                    dropped = now_dropped - reported,
                    dropped_in_all = now_dropped,
                    "log lines were dropped: the log's reader (a terminal, a pipe, a log collector) did not take them in time, and requests were answered meanwhile"
                );
                reported = now_dropped;
            }
            written = now_written;
        }
    }
}

/// Writes the lines handed over so far when dropped (at most two seconds): held to the end of
/// `serve`, whichever way it ends, so that an error logged just before does not go unwritten.
pub struct FlushOnDrop(pub Lines);

impl Drop for FlushOnDrop {
    fn drop(&mut self) {
        self.0.flush(Duration::from_secs(2));
    }
}

/// One event's line, handed over when dropped.
pub struct Line {
    text: Vec<u8>,
    queue: SyncSender<Message>,
}

impl Write for Line {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.text.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.text.is_empty() {
            return;
        }
        // The queue full (or the writing thread gone): the line is dropped, and counted.
        let text = std::mem::take(&mut self.text);
        if self.queue.try_send(Message::Line(text)).is_err() {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            text: Vec::with_capacity(256),
            queue: self.queue.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A log whose reader is stuck until let go.
    struct Stuck {
        gate: Arc<Mutex<()>>,
        got: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Stuck {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let _held = self.gate.lock().unwrap();
            self.got.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_reader_costs_the_writers_nothing_and_each_line_is_written_or_counted() {
        let gate = Arc::new(Mutex::new(()));
        let got = Arc::new(Mutex::new(Vec::new()));
        let held = gate.lock().unwrap();
        let lines = start(Stuck {
            gate: gate.clone(),
            got: got.clone(),
        })
        .unwrap();
        let before = dropped();
        let sent = WAITING_LINES + 5_000;
        let started = std::time::Instant::now();
        for i in 0..sent {
            let mut line = tracing_subscriber::fmt::MakeWriter::make_writer(&lines);
            writeln!(line, "line {i}").unwrap();
        }
        // Every line handed over without waiting for the reader (which still holds none).
        assert!(started.elapsed() < Duration::from_secs(20));
        drop(held);
        lines.flush(Duration::from_secs(20));
        let text = String::from_utf8(got.lock().unwrap().clone()).unwrap();
        let written = text.lines().count();
        // Other tests of this process may drop lines too: at least this test's, and every line
        // of this test either written (in order, whole) or counted.
        assert!(written >= WAITING_LINES, "{written} written");
        assert!(dropped() - before >= (sent - written) as u64);
        let numbers: Vec<usize> = text
            .lines()
            .map(|l| l.strip_prefix("line ").unwrap().parse().unwrap())
            .collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "out of order");
    }
}
