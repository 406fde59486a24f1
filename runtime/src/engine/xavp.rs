//! `$xavp(root=>field)`: per-message lists of named items, each a value or
//! a set of fields, each field a stack of values. Index 0 is the newest
//! (Kamailio adds at the head). Writing without a root index starts a new
//! item (`$xavp(sf=>uri)=…` twice makes two `sf` items), with `[n]` it
//! edits item n; `$null` removes.

use super::value::Val;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum XavpItem {
    Value(Val),
    /// Field name and its values, newest first, in insertion order of
    /// the names.
    Fields(Vec<(String, Vec<Val>)>),
}

pub(crate) type Xavps = HashMap<String, Vec<XavpItem>>;

/// An index inside `$xavp(...)`: none, `[n]` or `[*]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum XIdx {
    None,
    At(i64),
    All,
}

/// `root[idx]=>field[idx]`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct XavpName {
    pub root: String,
    pub root_idx: XIdx,
    pub field: Option<(String, XIdx)>,
}

fn name_idx(s: &str) -> Result<(String, XIdx), String> {
    let s = s.trim();
    let Some(open) = s.find('[') else {
        return Ok((s.to_string(), XIdx::None));
    };
    let close = s
        .strip_suffix(']')
        .ok_or_else(|| format!("`{s}`: `[` is not closed"))?;
    let inner = close[open + 1..].trim();
    let idx = if inner == "*" {
        XIdx::All
    } else {
        XIdx::At(
            inner
                .parse()
                .map_err(|_| format!("`{s}`: the engine supports constant `$xavp` indexes only"))?,
        )
    };
    Ok((s[..open].trim().to_string(), idx))
}

impl XavpName {
    pub fn parse(inner: &str) -> Result<XavpName, String> {
        let (root, field) = match inner.split_once("=>") {
            Some((r, f)) => (r, Some(f)),
            None => (inner, None),
        };
        let (root, root_idx) = name_idx(root)?;
        if root.is_empty() {
            return Err(format!("`$xavp({inner})` has no name"));
        }
        let field = match field {
            Some(f) => {
                let (f, i) = name_idx(f)?;
                if f.is_empty() {
                    return Err(format!("`$xavp({inner})` has an empty field name"));
                }
                Some((f, i))
            }
            None => None,
        };
        Ok(XavpName {
            root,
            root_idx,
            field,
        })
    }
}

fn at<T>(items: &[T], idx: XIdx) -> Option<usize> {
    let n = match idx {
        XIdx::None | XIdx::All => 0,
        XIdx::At(n) => n,
    };
    let i = if n < 0 {
        items.len().checked_sub(n.unsigned_abs() as usize)?
    } else {
        n as usize
    };
    (i < items.len()).then_some(i)
}

/// The value `name` names; `$null` when absent. A root item holding
/// fields, read without a field, reads as `<<xavp>>` (Kamailio prints an
/// address there).
pub(crate) fn read(x: &Xavps, name: &XavpName) -> Val {
    let Some(items) = x.get(&name.root) else {
        return Val::Null;
    };
    let Some(i) = at(items, name.root_idx) else {
        return Val::Null;
    };
    match (&items[i], &name.field) {
        (XavpItem::Value(v), None) => v.clone(),
        (XavpItem::Fields(_), None) => Val::str("<<xavp>>"),
        (XavpItem::Value(_), Some(_)) => Val::Null,
        (XavpItem::Fields(fields), Some((f, fidx))) => fields
            .iter()
            .find(|(n, _)| n == f)
            .and_then(|(_, vals)| at(vals, *fidx).map(|j| vals[j].clone()))
            .unwrap_or(Val::Null),
    }
}

/// `$cnt`: the items of a root, or the values of a field in the root item
/// the index names (0 by default).
pub(crate) fn count(x: &Xavps, name: &XavpName) -> usize {
    let Some(items) = x.get(&name.root) else {
        return 0;
    };
    let Some((field, _)) = &name.field else {
        return items.len();
    };
    match at(items, name.root_idx).map(|i| &items[i]) {
        Some(XavpItem::Fields(fields)) => fields
            .iter()
            .find(|(n, _)| n == field)
            .map_or(0, |(_, v)| v.len()),
        _ => 0,
    }
}

/// Removes the `idx` element (`None`: the first, `All`: every one).
fn remove<T>(items: &mut Vec<T>, idx: XIdx) {
    match idx {
        XIdx::All => items.clear(),
        other => {
            if let Some(i) = at(items, other) {
                items.remove(i);
            }
        }
    }
}

/// Assigns `v` to `name`; `Err` says why nothing changed.
pub(crate) fn write(x: &mut Xavps, name: &XavpName, v: Val) -> Result<(), String> {
    let items = x.entry(name.root.clone()).or_default();
    let Some((field, fidx)) = &name.field else {
        return match (v, name.root_idx) {
            (Val::Null, idx) => {
                remove(items, idx);
                Ok(())
            }
            (v, XIdx::None) => {
                items.insert(0, XavpItem::Value(v));
                Ok(())
            }
            (v, idx) => match at(items, idx) {
                Some(i) => {
                    items[i] = XavpItem::Value(v);
                    Ok(())
                }
                None => Err(format!("no `{}` item at that index", name.root)),
            },
        };
    };
    if name.root_idx == XIdx::None && !v.is_null() {
        items.insert(0, XavpItem::Fields(vec![(field.clone(), vec![v])]));
        return Ok(());
    }
    let Some(i) = at(items, name.root_idx) else {
        return if v.is_null() {
            Ok(())
        } else {
            Err(format!("no `{}` item at that index", name.root))
        };
    };
    let XavpItem::Fields(fields) = &mut items[i] else {
        return Err(format!("`{}` holds a value, not fields", name.root));
    };
    let slot = match fields.iter().position(|(n, _)| n == field) {
        Some(p) => p,
        None => {
            if v.is_null() {
                return Ok(());
            }
            fields.push((field.clone(), Vec::new()));
            fields.len() - 1
        }
    };
    let vals = &mut fields[slot].1;
    match (v, fidx) {
        (Val::Null, idx) => remove(vals, *idx),
        (v, XIdx::None) => vals.insert(0, v),
        (v, idx) => match at(vals, *idx) {
            Some(j) => vals[j] = v,
            None => return Err(format!("no `{field}` value at that index")),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> XavpName {
        XavpName::parse(s).unwrap()
    }

    #[test]
    fn new_items_and_fields() {
        let mut x = Xavps::new();
        write(&mut x, &n("sf=>uri"), Val::str("sip:a")).unwrap();
        write(&mut x, &n("sf[0]=>t"), Val::Int(10)).unwrap();
        write(&mut x, &n("sf=>uri"), Val::str("sip:b")).unwrap();
        assert_eq!(read(&x, &n("sf=>uri")), Val::str("sip:b"));
        assert_eq!(read(&x, &n("sf[1]=>uri")), Val::str("sip:a"));
        assert_eq!(read(&x, &n("sf[1]=>t")), Val::Int(10));
        assert_eq!(read(&x, &n("sf[0]=>t")), Val::Null);
        write(&mut x, &n("sf[1]=>t"), Val::Null).unwrap();
        assert_eq!(read(&x, &n("sf[1]=>t")), Val::Null);
        write(&mut x, &n("sf[*]"), Val::Null).unwrap();
        assert_eq!(read(&x, &n("sf=>uri")), Val::Null);
        assert!(XavpName::parse("a[$var(i)]=>b").is_err());
    }
}
