//! The small expression language of `#!ifexp` and `#!defexp` (Kamailio
//! 5.7+): integers, strings, define names as variables, C operators.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Int(i64),
    Str(String),
}

impl Value {
    pub fn truthy(&self) -> bool {
        match self {
            Value::Int(i) => *i != 0,
            Value::Str(s) => !s.is_empty(),
        }
    }

    fn int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            Value::Str(s) => s.trim().parse().unwrap_or(0),
        }
    }

    pub fn to_define_value(&self, quoted: bool) -> String {
        let s = match self {
            Value::Int(i) => i.to_string(),
            Value::Str(s) => s.clone(),
        };
        if quoted {
            format!("\"{s}\"")
        } else {
            s
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
enum T {
    Int(i64),
    Str(String),
    Name(String),
    Op(&'static str),
}

const OPS: &[&str] = &[
    "**", "==", "!=", "<=", ">=", "&&", "||", "<<", ">>", "+", "-", "*", "/", "%", "<", ">", "!",
    "~", "&", "|", "^", "(", ")", ",",
];

fn lex(src: &str) -> Result<Vec<T>, String> {
    let b = src.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    'outer: while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let t = &src[start..i];
            let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                i64::from_str_radix(h, 16)
            } else {
                t.parse()
            };
            out.push(T::Int(v.map_err(|_| format!("bad number `{t}`"))?));
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(T::Name(src[start..i].to_string()));
            continue;
        }
        if c == b'"' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            if i >= b.len() {
                return Err("string is not closed".into());
            }
            out.push(T::Str(src[start..i].to_string()));
            i += 1;
            continue;
        }
        for op in OPS {
            if src[i..].starts_with(op) {
                out.push(T::Op(op));
                i += op.len();
                continue 'outer;
            }
        }
        return Err(format!(
            "unexpected `{}`",
            &src[i..].chars().next().unwrap_or(' ')
        ));
    }
    Ok(out)
}

struct P<'a> {
    toks: Vec<T>,
    pos: usize,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    depth: usize,
}

const LEVELS: &[&[&str]] = &[
    &[","],
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<", ">", "<=", ">="],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
    &["**"],
];

impl P<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(T::Op(o)) => Some(o),
            _ => None,
        }
    }

    fn binary(&mut self, level: usize) -> Result<Value, String> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        while let Some(op) = self.peek_op().filter(|o| LEVELS[level].contains(o)) {
            self.pos += 1;
            let right = self.binary(level + 1)?;
            left = apply(op, left, right)?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > 200 {
            return Err("expression nests too deep".into());
        }
        let r = match self.peek_op() {
            Some("!") => {
                self.pos += 1;
                Ok(Value::Int(!self.unary()?.truthy() as i64))
            }
            Some("-") => {
                self.pos += 1;
                Ok(Value::Int(self.unary()?.int().wrapping_neg()))
            }
            Some("~") => {
                self.pos += 1;
                Ok(Value::Int(!self.unary()?.int()))
            }
            _ => self.primary(),
        };
        self.depth -= 1;
        r
    }

    fn primary(&mut self) -> Result<Value, String> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or("expression ends too early")?;
        self.pos += 1;
        match t {
            T::Int(i) => Ok(Value::Int(i)),
            T::Str(s) => Ok(Value::Str(s)),
            T::Name(n) => {
                let v = (self.lookup)(&n).unwrap_or_default();
                let v = v.trim();
                if let Some(s) = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    Ok(Value::Str(s.to_string()))
                } else if let Ok(i) = v.parse::<i64>() {
                    Ok(Value::Int(i))
                } else if v.is_empty() {
                    Ok(Value::Int(0))
                } else {
                    Ok(Value::Str(v.to_string()))
                }
            }
            T::Op("(") => {
                let v = self.binary(0)?;
                match self.toks.get(self.pos) {
                    Some(T::Op(")")) => {
                        self.pos += 1;
                        Ok(v)
                    }
                    _ => Err("expected `)`".into()),
                }
            }
            T::Op(o) => Err(format!("unexpected `{o}`")),
        }
    }
}

fn apply(op: &str, l: Value, r: Value) -> Result<Value, String> {
    if let (Value::Str(a), Value::Str(b)) = (&l, &r) {
        match op {
            "==" => return Ok(Value::Int((a == b) as i64)),
            "!=" => return Ok(Value::Int((a != b) as i64)),
            "+" => return Ok(Value::Str(format!("{a}{b}"))),
            _ => {}
        }
    }
    let (a, b) = (l.int(), r.int());
    Ok(Value::Int(match op {
        "," => b,
        "||" => (l.truthy() || r.truthy()) as i64,
        "&&" => (l.truthy() && r.truthy()) as i64,
        "|" => a | b,
        "^" => a ^ b,
        "&" => a & b,
        "==" => (a == b) as i64,
        "!=" => (a != b) as i64,
        "<" => (a < b) as i64,
        ">" => (a > b) as i64,
        "<=" => (a <= b) as i64,
        ">=" => (a >= b) as i64,
        "<<" => a.wrapping_shl(b as u32),
        ">>" => a.wrapping_shr(b as u32),
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" | "%" if b == 0 => return Err("division by zero".into()),
        "/" => a.wrapping_div(b),
        "%" => a.wrapping_rem(b),
        "**" => a.wrapping_pow(b.clamp(0, 64) as u32),
        _ => return Err(format!("unknown operator `{op}`")),
    }))
}

/// Evaluates an expression; define names are looked up through `lookup`.
pub fn eval(src: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Value, String> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err("empty expression".into());
    }
    let mut p = P {
        toks,
        pos: 0,
        lookup,
        depth: 0,
    };
    let v = p.binary(0)?;
    if p.pos != p.toks.len() {
        return Err("unexpected text after the expression".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_defines() {
        let look = |n: &str| (n == "KAMAILIO_VERSION").then(|| "5007000".to_string());
        assert!(eval("KAMAILIO_VERSION >= 5007000 && 1", &look)
            .unwrap()
            .truthy());
        assert_eq!(eval("2 ** 3 + 1", &look).unwrap(), Value::Int(9));
        assert!(eval("1 / 0", &look).is_err());
    }
}
