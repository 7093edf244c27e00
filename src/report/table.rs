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

    /// Render with every line cut to `width` columns when there is one (a terminal's): the last column
    /// gives way first. Without a width (a pipe, a log) every cell keeps its full text.
    pub fn render_within(&self, width: Option<usize>) -> String {
        match width {
            Some(w) => self
                .render()
                .lines()
                .map(|l| format!("{}\n", console::truncate_str(l, w, "…")))
                .collect(),
            None => self.render(),
        }
    }

    pub fn render(&self) -> String {
        let width = |s: &str| console::measure_text_width(s);
        let mut widths: Vec<usize> = self.header.iter().map(|h| width(h)).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(width(c));
                }
            }
        }
        let mut out = String::new();
        for r in std::iter::once(&self.header).chain(self.rows.iter()) {
            let last = r.len().saturating_sub(1);
            for (i, c) in r.iter().enumerate() {
                out.push_str(c);
                if i < last {
                    out.push_str(&" ".repeat(widths[i] - width(c) + 2));
                }
            }
            out.push('\n');
        }
        out
    }
}
