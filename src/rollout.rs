//! A progressive rollout over several clusters: waves (`--waves 1,10%,100%`, cumulative), each Ready
//! before the next starts, and a failure budget (`--max-failures N|P%`) past which nothing more is
//! started. Pure planning here: `commands/fleet.rs` runs the CLI's waves over contexts,
//! `operator/rollouts.rs` the operator's over `Kyma` objects.

use std::fmt;
use std::str::FromStr;

/// One step of `--waves`: how many clusters have been reached once the wave is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Clusters(usize),
    Percent(u8),
}

impl FromStr for Reach {
    type Err = String;
    fn from_str(s: &str) -> Result<Reach, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "'{s}' is not a wave: give a number of clusters (1) or a percentage of them (10%, at most 100%)"
            )
        };
        match s.strip_suffix('%') {
            Some(p) => match p.parse::<u8>() {
                Ok(p @ 1..=100) => Ok(Reach::Percent(p)),
                _ => Err(bad()),
            },
            None => match s.parse::<usize>() {
                Ok(n) if n >= 1 => Ok(Reach::Clusters(n)),
                _ => Err(bad()),
            },
        }
    }
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reach::Clusters(n) => write!(f, "{n}"),
            Reach::Percent(p) => write!(f, "{p}%"),
        }
    }
}

impl Reach {
    /// The number of clusters this reach stands for among `total`: a percentage rounds up (10% of 5
    /// clusters is one cluster, never none).
    fn of(self, total: usize) -> usize {
        match self {
            Reach::Clusters(n) => n.min(total),
            Reach::Percent(p) => (total * p as usize).div_ceil(100),
        }
    }
}

/// `--max-failures`: how many clusters may fail before the rollout halts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Clusters(usize),
    Percent(u8),
}

impl FromStr for Budget {
    type Err = String;
    fn from_str(s: &str) -> Result<Budget, String> {
        let s = s.trim();
        let bad = || {
            format!("'{s}' is not a failure budget: give a number of clusters (0, 2) or a percentage (5%)")
        };
        match s.strip_suffix('%') {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= 100)
                .map(Budget::Percent)
                .ok_or_else(bad),
            None => s.parse::<usize>().map(Budget::Clusters).map_err(|_| bad()),
        }
    }
}

impl Budget {
    /// Failures allowed among `total` clusters: a percentage rounds down (5% of 10 clusters allows
    /// none: the budget is a promise about what may break).
    pub fn of(self, total: usize) -> usize {
        match self {
            Budget::Clusters(n) => n,
            Budget::Percent(p) => total * p as usize / 100,
        }
    }
}

/// The waves of one run: each wave a range of the clusters, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub waves: Vec<std::ops::Range<usize>>,
    /// Failures allowed before the rest is not started.
    pub max_failures: usize,
}

/// Waves for `total` clusters. Cumulative reaches that add no cluster are dropped (10% of 5 after a
/// first wave of 1); clusters past the last reach form one more wave, so every cluster is in a wave.
pub fn plan(reaches: &[Reach], budget: Budget, total: usize) -> Result<Plan, String> {
    let mut waves = Vec::new();
    let mut start = 0;
    let mut previous: Option<Reach> = None;
    for r in reaches {
        let end = r.of(total);
        if end < start {
            return Err(format!(
                "waves are cumulative: {r} reaches {end} of {total} clusters, fewer than the {start} {} reached",
                previous
                    .map(|p| format!("wave before it ({p})"))
                    .unwrap_or_default()
            ));
        }
        if end > start {
            waves.push(start..end);
            start = end;
        }
        previous = Some(*r);
    }
    if start < total {
        waves.push(start..total);
    }
    Ok(Plan {
        waves,
        max_failures: budget.of(total),
    })
}

/// Waves by a label (`--waves-by ring`): the clusters with the same value are one wave, the waves in
/// the order of the values (as numbers when every value is one, else as text), clusters without the
/// label last, as one more wave. Returns the clusters' order (indexes into `values`) and the waves over
/// that order; within a wave, the order given.
pub fn plan_by(values: &[Option<&str>], budget: Budget) -> (Vec<usize>, Plan) {
    let numeric = values
        .iter()
        .flatten()
        .all(|v| v.parse::<f64>().is_ok_and(f64::is_finite));
    let mut order: Vec<usize> = (0..values.len()).collect();
    // Stable: the given order within a wave.
    order.sort_by(|&a, &b| match (values[a], values[b]) {
        (Some(x), Some(y)) if numeric => x
            .parse::<f64>()
            .unwrap_or(0.0)
            .total_cmp(&y.parse::<f64>().unwrap_or(0.0)),
        (Some(x), Some(y)) => x.cmp(y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    // Grouped as they are ordered: "1" and "01" are one ring when the values are numbers.
    let key = |i: usize| match values[i] {
        Some(v) if numeric => Some(v.parse::<f64>().unwrap_or(0.0).to_string()),
        v => v.map(str::to_string),
    };
    let mut waves: Vec<std::ops::Range<usize>> = Vec::new();
    for (at, &i) in order.iter().enumerate() {
        match waves.last_mut() {
            Some(w) if key(order[w.start]) == key(i) => w.end = at + 1,
            _ => waves.push(at..at + 1),
        }
    }
    let max_failures = budget.of(values.len());
    (order, Plan { waves, max_failures })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reaches(s: &str) -> Vec<Reach> {
        s.split(',').map(|r| r.parse().unwrap()).collect()
    }

    #[test]
    fn waves_are_cumulative_and_cover_every_cluster() {
        let p = plan(&reaches("1,10%,100%"), Budget::Clusters(0), 30).unwrap();
        assert_eq!(p.waves, vec![0..1, 1..3, 3..30]);
        // 10% of 5 rounds up to 1: no cluster is added, the wave is dropped.
        let p = plan(&reaches("1,10%,100%"), Budget::Clusters(0), 5).unwrap();
        assert_eq!(p.waves, vec![0..1, 1..5]);
        // Past the last reach: one more wave.
        let p = plan(&reaches("2,50%"), Budget::Clusters(0), 10).unwrap();
        assert_eq!(p.waves, vec![0..2, 2..5, 5..10]);
        // More than there are: all of them.
        let p = plan(&reaches("3"), Budget::Clusters(0), 2).unwrap();
        assert_eq!(p.waves, vec![0..2]);
    }

    #[test]
    fn waves_by_a_label_group_equal_values_in_value_order_and_the_unlabelled_last() {
        let values = [Some("2"), None, Some("10"), Some("2"), Some("1")];
        let (order, plan) = plan_by(&values, Budget::Clusters(1));
        // Numbers compare as numbers: 1, 2, 2, 10, then the one without the label.
        assert_eq!(order, vec![4, 0, 3, 2, 1]);
        assert_eq!(plan.waves, vec![0..1, 1..3, 3..4, 4..5]);
        assert_eq!(plan.max_failures, 1);
        let (_, plan) = plan_by(&[Some("1"), Some("01"), Some("2")], Budget::Clusters(0));
        assert_eq!(plan.waves, vec![0..2, 2..3], "01 is 1");
        let (order, plan) = plan_by(&[Some("late"), Some("canary"), Some("late")], Budget::Clusters(0));
        assert_eq!((order, plan.waves), (vec![1, 0, 2], vec![0..1, 1..3]));
    }

    #[test]
    fn a_wave_smaller_than_the_one_before_is_refused() {
        let e = plan(&reaches("5,10%"), Budget::Clusters(0), 20).unwrap_err();
        assert_eq!(
            e,
            "waves are cumulative: 10% reaches 2 of 20 clusters, fewer than the 5 wave before it (5) reached"
        );
    }

    #[test]
    fn reaches_and_budgets_parse_or_say_what_they_take() {
        assert_eq!("10%".parse::<Reach>(), Ok(Reach::Percent(10)));
        assert_eq!("3".parse::<Reach>(), Ok(Reach::Clusters(3)));
        for bad in ["0", "0%", "101%", "x", "-1"] {
            assert!(
                bad.parse::<Reach>().unwrap_err().contains("is not a wave"),
                "{bad}"
            );
        }
        assert_eq!("0".parse::<Budget>(), Ok(Budget::Clusters(0)));
        assert_eq!("5%".parse::<Budget>(), Ok(Budget::Percent(5)));
        assert!("x%".parse::<Budget>().is_err());
        assert_eq!(Budget::Percent(5).of(10), 0, "rounds down");
        assert_eq!(Budget::Percent(10).of(30), 3);
    }
}
