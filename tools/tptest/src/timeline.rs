//! How a transfer went over time, for stall measurements and plots: with
//! `TPTEST_TIMELINE=FILE` in the environment, `fetch`, `source` and `rr` write
//! `MS BYTES` lines to FILE (milliseconds since the connection opened,
//! bytes moved so far), at most one per 10 ms and a last one at the end.
//! A stall shows as two lines far apart.

use std::{
    fs::File,
    io::{BufWriter, Write},
    time::{Duration, Instant},
};

const EVERY: Duration = Duration::from_millis(10);

pub(crate) struct Timeline {
    out: Option<BufWriter<File>>,
    start: Instant,
    last: Instant,
    bytes: u64,
}

impl Timeline {
    /// A timeline to the file `TPTEST_TIMELINE` names, if it does.
    pub(crate) fn from_env() -> std::io::Result<Self> {
        let out = match std::env::var_os("TPTEST_TIMELINE") {
            Some(path) => Some(BufWriter::new(File::create(path)?)),
            None => None,
        };
        let now = Instant::now();
        Ok(Self {
            out,
            start: now,
            last: now,
            bytes: 0,
        })
    }

    /// `n` more bytes moved.
    pub(crate) fn moved(&mut self, n: usize) -> std::io::Result<()> {
        self.bytes += n as u64;
        let now = Instant::now();
        if now.duration_since(self.last) >= EVERY {
            self.last = now;
            self.line(now)?;
        }
        Ok(())
    }

    /// The transfer is over.
    pub(crate) fn finish(mut self) -> std::io::Result<()> {
        self.line(Instant::now())
    }

    fn line(&mut self, now: Instant) -> std::io::Result<()> {
        let ms = now.duration_since(self.start).as_millis();
        match &mut self.out {
            // Flushed at once: a test reads how far a running transfer is.
            Some(out) => {
                writeln!(out, "{ms} {}", self.bytes)?;
                out.flush()
            }
            None => Ok(()),
        }
    }
}
