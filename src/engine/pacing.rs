//! How many requests the engine keeps in flight, and whether the cluster answers at all. Pure
//! bookkeeping on the answers the engine sees, with the time passed in: no I/O, no clock of its own.

use std::time::{Duration, Instant};

use super::Outage;

/// Requests in flight at first; the window doubles per round trip up to `--concurrency`.
const SLOW_START: f64 = 1.0;

/// After a cut, the window grows again only after this long without another one.
const QUIET_AFTER_CUT: Duration = Duration::from_secs(10);

/// Requests allowed in flight now, as TCP paces packets: a slow start up to `--concurrency`, halved
/// when the server answers 429, grown back by one per window of successes (AIMD). A throttled server
/// gets fewer requests instead of the same number again after each Retry-After.
#[derive(Debug, Clone)]
pub(super) struct Pacer {
    limit: f64,
    max: f64,
    last_cut: Option<Instant>,
}

impl Pacer {
    pub fn new(concurrency: usize) -> Pacer {
        Pacer {
            limit: SLOW_START,
            max: concurrency.max(1) as f64,
            last_cut: None,
        }
    }

    /// Requests that may be in flight now (at least one).
    pub fn window(&self) -> usize {
        self.limit.floor().max(1.0) as usize
    }

    /// A request succeeded.
    pub fn success(&mut self, now: Instant) {
        match self.last_cut {
            // Slow start: one more per success doubles the window each round trip, so a server that
            // throttles sees a handful of requests before the first 429, not a burst of --concurrency.
            None => self.limit = (self.limit + 1.0).min(self.max),
            // After a cut, grow back by one per window, and only after a long quiet spell: each 429 costs
            // its object the server's Retry-After (APF raises it while drops go on), so probing for more
            // room too early costs more than it gains.
            Some(t) if now.saturating_duration_since(t) >= QUIET_AFTER_CUT => {
                self.limit = (self.limit + 1.0 / self.limit).min(self.max)
            }
            Some(_) => {}
        }
    }

    /// The server answered 429 to a request sent at `sent_at`: halve the window, once per window (a
    /// 429 for a request sent before the last cut says nothing new). Whether it cut.
    pub fn throttled(&mut self, sent_at: Option<Instant>, now: Instant) -> bool {
        let news = self
            .last_cut
            .is_none_or(|cut| sent_at.is_some_and(|sent| sent > cut));
        if news {
            self.limit = (self.limit / 2.0).max(1.0);
            self.last_cut = Some(now);
        }
        news
    }
}

/// Whether the cluster answers: an outage runs from the first request that got no answer to the next
/// one that got any (a success or a refusal).
#[derive(Debug, Clone, Default)]
pub(super) struct Reachability {
    down_since: Option<Instant>,
    total: Outage,
}

impl Reachability {
    /// A request got no answer. True when this starts an outage (it was reachable until now).
    pub fn unanswered(&mut self, now: Instant) -> bool {
        if self.down_since.is_some() {
            return false;
        }
        self.down_since = Some(now);
        true
    }

    /// The server answered: the outage in progress, if any, is over and counted; how long it lasted.
    pub fn answered(&mut self, now: Instant) -> Option<Duration> {
        let d = now.saturating_duration_since(self.down_since.take()?);
        self.total.outages += 1;
        self.total.seconds += d.as_secs_f64();
        Some(d)
    }

    /// Every outage so far, one still in progress at `now` included.
    pub fn finish(mut self, now: Instant) -> Outage {
        self.answered(now);
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy)]
    enum Step {
        /// A success, this many seconds after the start.
        Ok(u64),
        /// A 429 at this second for a request sent at that second.
        Throttled { at: u64, sent: u64 },
    }

    fn windows(concurrency: usize, steps: &[Step]) -> Vec<usize> {
        let t0 = Instant::now();
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        let mut p = Pacer::new(concurrency);
        steps
            .iter()
            .map(|step| {
                match *step {
                    Step::Ok(at) => p.success(s(at)),
                    Step::Throttled { at, sent } => {
                        p.throttled(Some(s(sent)), s(at));
                    }
                }
                p.window()
            })
            .collect()
    }

    #[test]
    fn aimd_window_per_answer() {
        use Step::*;
        let cases: &[(&str, usize, &[Step], &[usize])] = &[
            (
                "slow start grows by one per success",
                8,
                &[Ok(0), Ok(0), Ok(0)],
                &[2, 3, 4],
            ),
            (
                "slow start stops at --concurrency",
                3,
                &[Ok(0), Ok(0), Ok(0), Ok(0)],
                &[2, 3, 3, 3],
            ),
            (
                "concurrency 0 still sends one at a time",
                0,
                &[Ok(0), Ok(0)],
                &[1, 1],
            ),
            (
                "a 429 halves the window",
                16,
                &[
                    Ok(0),
                    Ok(0),
                    Ok(0),
                    Ok(0),
                    Ok(0),
                    Ok(0),
                    Ok(0),
                    Throttled { at: 1, sent: 1 },
                ],
                &[2, 3, 4, 5, 6, 7, 8, 4],
            ),
            (
                "429s for requests sent before the cut do not cut again",
                16,
                &[
                    Ok(0),
                    Ok(0),
                    Ok(0),
                    Throttled { at: 1, sent: 1 },
                    Throttled { at: 1, sent: 0 },
                ],
                &[2, 3, 4, 2, 2],
            ),
            (
                "a 429 for a request sent after the cut cuts again, never below one",
                16,
                &[
                    Ok(0),
                    Throttled { at: 1, sent: 1 },
                    Throttled { at: 3, sent: 2 },
                    Throttled { at: 5, sent: 4 },
                ],
                &[2, 1, 1, 1],
            ),
            (
                "no growth within 10 s of a cut",
                16,
                &[Ok(0), Ok(0), Ok(0), Throttled { at: 1, sent: 1 }, Ok(2), Ok(10)],
                &[2, 3, 4, 2, 2, 2],
            ),
            (
                "after 10 s quiet, about one more per window of successes",
                16,
                &[
                    Ok(0),
                    Ok(0),
                    Ok(0),
                    Throttled { at: 1, sent: 1 },
                    Ok(11),
                    Ok(11),
                    Ok(11),
                ],
                &[2, 3, 4, 2, 2, 2, 3],
            ),
        ];
        for (name, concurrency, steps, want) in cases {
            assert_eq!(&windows(*concurrency, steps), want, "{name}");
        }
    }

    #[test]
    fn outages_run_from_the_first_unanswered_request_to_the_next_answer() {
        let t0 = Instant::now();
        let s = |ms: u64| t0 + Duration::from_millis(ms);
        let mut r = Reachability::default();
        assert_eq!(r.answered(s(0)), None, "an answer while up ends nothing");
        assert!(
            r.unanswered(s(100)),
            "the first unanswered request starts an outage"
        );
        assert!(!r.unanswered(s(900)), "later ones belong to the same outage");
        assert_eq!(r.answered(s(1600)), Some(Duration::from_millis(1500)));
        assert_eq!(r.answered(s(1700)), None);
        assert!(r.unanswered(s(2000)));
        // Still down at the end: that outage counts too.
        let total = r.finish(s(2500));
        assert_eq!(total.outages, 2);
        assert!((total.seconds - 2.0).abs() < 1e-9, "{}", total.seconds);
        assert!(Reachability::default().finish(s(10)).is_none());
    }
}
