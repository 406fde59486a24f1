//! Which source lines the translated variants read. A line of config code
//! that sits in a `#!ifdef` branch no variant took was never looked at by
//! the rules, so the translation cannot vouch for it: it is reported.

use sercompat_grammar::Parsed;
use std::collections::BTreeMap;

/// Byte ranges read as tokens, by file name, over several parses.
#[derive(Default)]
pub struct Coverage {
    by_file: BTreeMap<String, Vec<(usize, usize)>>,
}

impl Coverage {
    pub fn add(&mut self, p: &Parsed) {
        // The 2001 rule table has its own parser and no token stream.
        for item in &p.config.items {
            if let sercompat_grammar::ast::ItemKind::Rules(rules) = &item.kind {
                for r in rules {
                    let name = &p.db.file(r.span.file).name;
                    self.by_file
                        .entry(name.clone())
                        .or_default()
                        .push((r.span.start as usize, r.span.end as usize));
                }
            }
        }
        for t in &p.tokens.tokens {
            if t.expansion != 0 {
                continue; // from a define body: its use site is covered below
            }
            let name = &p.db.file(t.span.file).name;
            self.by_file
                .entry(name.clone())
                .or_default()
                .push((t.lead as usize, t.span.end as usize));
        }
        for e in &p.tokens.expansions {
            let name = &p.db.file(e.use_site.file).name;
            self.by_file
                .entry(name.clone())
                .or_default()
                .push((e.use_site.start as usize, e.use_site.end as usize));
        }
    }

    /// The 1-based numbers of the lines of `text` (file `name`) that hold
    /// config code no parse read.
    pub fn uncovered_lines(&mut self, name: &str, text: &str) -> Vec<usize> {
        let ranges = self.by_file.entry(name.to_string()).or_default();
        ranges.sort_unstable();
        let mut covered = vec![false; text.len() + 1];
        for &(s, e) in ranges.iter() {
            for c in covered.iter_mut().take(e.min(text.len())).skip(s) {
                *c = true;
            }
        }
        let code = code_bytes(text);
        let mut out = Vec::new();
        let mut line = 1;
        let mut line_has_gap = false;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                if line_has_gap {
                    out.push(line);
                }
                line += 1;
                line_has_gap = false;
                continue;
            }
            if code[i] && !covered[i] {
                line_has_gap = true;
            }
        }
        if line_has_gap {
            out.push(line);
        }
        out
    }
}

/// For each byte: whether it is config code (not blank, not in a comment,
/// not on a preprocessor directive or include line).
fn code_bytes(text: &str) -> Vec<bool> {
    let b = text.as_bytes();
    let mut code = vec![false; b.len()];
    let mut i = 0;
    let mut line_start = true;
    let mut in_block = false;
    while i < b.len() {
        if in_block {
            if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                in_block = false;
                i += 2;
            } else {
                line_start = b[i] == b'\n';
                i += 1;
            }
            continue;
        }
        if line_start {
            line_start = false;
            let rest = &text[i..];
            let trimmed = rest.trim_start_matches([' ', '\t']);
            let skip = rest.len() - trimmed.len();
            if trimmed.starts_with("#!")
                || trimmed.starts_with("!!")
                || trimmed.starts_with("include_file")
                || trimmed.starts_with("import_file")
            {
                // A directive line (with its backslash continuations).
                let mut j = i + skip;
                while j < b.len() {
                    if b[j] == b'\n' && (j == 0 || b[j - 1] != b'\\') {
                        break;
                    }
                    j += 1;
                }
                i = j;
                continue;
            }
        }
        match b[i] {
            b'\n' => {
                line_start = true;
                i += 1;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                in_block = true;
                i += 2;
            }
            b'"' | b'\'' => {
                let q = b[i];
                code[i] = true;
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    if b[i] == b'\\' && i + 1 < b.len() {
                        code[i] = true;
                        i += 1;
                    }
                    code[i] = true;
                    i += 1;
                }
                if i < b.len() && b[i] == q {
                    code[i] = true;
                    i += 1;
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                code[i] = true;
                i += 1;
            }
        }
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_directives_and_blanks_are_not_code() {
        let text = "# c\n#!ifdef X\n  a=1 # x\n/* b\n c */\n\n// d\n";
        let code = code_bytes(text);
        let lines: Vec<usize> = text
            .split_inclusive('\n')
            .scan(0, |at, l| {
                let s = *at;
                *at += l.len();
                Some((s, l.len()))
            })
            .enumerate()
            .filter(|(_, (s, n))| (*s..s + n).any(|i| code[i]))
            .map(|(i, _)| i + 1)
            .collect();
        assert_eq!(lines, vec![3]);
    }
}
