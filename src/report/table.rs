//! A plain aligned table; colour codes are ignored when measuring widths.

pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Render with every line cut to `width` columns when there is one (a terminal's). The last column
    /// (details, listed in full below the table) gives way first, down to 20 columns, then a long first
    /// column (module names) down to 16, both with an ellipsis, so the state columns stay; what is
    /// still too wide is cut at the edge. Without a width (a pipe, a log) every cell keeps its full text.
    pub fn render_within(&self, width: Option<usize>) -> String {
        let Some(w) = width else {
            return self.render();
        };
        let mut widths = self.widths();
        let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        let mut over = total.saturating_sub(w);
        // The last column (details that are listed in full elsewhere) first, then the names.
        let last = widths.len().saturating_sub(1);
        for (i, floor) in [(last, 20), (0, 16)] {
            if over == 0 || widths.len() < 2 {
                break;
            }
            let floor = floor.max(console::measure_text_width(&self.header[i]));
            let give = over.min(widths[i].saturating_sub(floor));
            widths[i] -= give;
            over -= give;
        }
        self.render_with(&widths)
            .lines()
            .map(|l| format!("{}\n", console::truncate_str(l, w, "…")))
            .collect()
    }

    pub fn render(&self) -> String {
        self.render_with(&self.widths())
    }

    fn widths(&self) -> Vec<usize> {
        let width = |s: &str| console::measure_text_width(s);
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(width(c));
                }
            }
        }
        widths
    }

    fn render_with(&self, widths: &[usize]) -> String {
        let width = |s: &str| console::measure_text_width(s);
        let mut out = String::new();
        for r in std::iter::once(&self.header).chain(self.rows.iter()) {
            let last = r.len().saturating_sub(1);
            for (i, c) in r.iter().enumerate() {
                let cell = match widths.get(i) {
                    Some(&w) if width(c) > w => console::truncate_str(c, w, "…").to_string(),
                    _ => c.clone(),
                };
                out.push_str(&cell);
                if i < last {
                    out.push_str(&" ".repeat(widths[i].saturating_sub(width(&cell)) + 2));
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_name_column_gives_way_before_the_state_columns() {
        let mut t = Table::new(&["MODULE", "STATE", "OBJECTS"]);
        t.row(vec![
            "observability-pipeline-with-a-long-name".into(),
            "TimedOut".into(),
            "1/2".into(),
        ]);
        t.row(vec!["istio".into(), "Ready".into(), "9/9".into()]);
        let out = t.render_within(Some(40));
        assert!(out.lines().all(|l| console::measure_text_width(l) <= 40), "{out}");
        assert!(
            out.contains("observability-pipeli…") && out.contains("TimedOut  1/2"),
            "{out}"
        );
        assert!(out.contains("istio") && out.contains("Ready     9/9"), "{out}");
        // Off a terminal, full text.
        assert!(
            t.render_within(None)
                .contains("observability-pipeline-with-a-long-name")
        );
    }
}
