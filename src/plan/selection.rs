//! The selections the planner builds for one subgraph fetch, and their printing as GraphQL text.
//!
//! These are our own small types rather than apollo-compiler's executable ones because fetches are
//! assembled piece by piece (keys, `@requires` inputs, client fields) and merged by response key.

use std::collections::HashMap;
use std::fmt::Write;

use apollo_compiler::ast::{Argument, Directive, DirectiveList, Value};
use apollo_compiler::{Name, Node};

#[derive(Debug, Clone, Default)]
pub struct SelectionSet {
    items: Vec<Selection>,
    /// Where each response key's fields and the fragments are, once the set passes
    /// `INDEXED_FROM` items: adding a field merges it with an equal one, and a scan per field
    /// would make 100,000 aliases cost 10^10 comparisons.
    index: Option<Box<SetIndex>>,
}

#[derive(Debug, Clone, Default)]
struct SetIndex {
    fields: HashMap<Name, Vec<usize>, ahash::RandomState>,
    fragments: Vec<usize>,
}

/// Below this many items a scan is faster than hashing.
const INDEXED_FROM: usize = 16;

impl PartialEq for SelectionSet {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    Field(Field),
    Fragment(Fragment),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub alias: Option<Name>,
    pub name: Name,
    pub arguments: Vec<Node<Argument>>,
    /// `@skip`/`@include` with a variable, and the client's executable directives; the subgraph
    /// applies them with the variables we forward.
    pub directives: DirectiveList,
    pub selections: SelectionSet,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fragment {
    pub type_condition: Option<Name>,
    pub directives: DirectiveList,
    pub selections: SelectionSet,
}

impl Field {
    pub fn new(name: Name) -> Self {
        Self {
            alias: None,
            name,
            arguments: Vec::new(),
            directives: DirectiveList::new(),
            selections: SelectionSet::default(),
        }
    }

    pub fn response_key(&self) -> &Name {
        self.alias.as_ref().unwrap_or(&self.name)
    }
}

impl SelectionSet {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn items(&self) -> &[Selection] {
        &self.items
    }

    /// Adds a field, merging it into an existing field with the same response key, arguments and
    /// directives, because one fetch must ask for each piece of data once.
    pub fn add_field(&mut self, mut field: Field) {
        // `@skip`/`@include` on `__typename` are the gateway's to apply when shaping: the
        // field costs the subgraph nothing, and async-graphql does not count a variable used
        // there, refusing the fetch as one that declares an unused variable.
        if field.name == "__typename" {
            field
                .directives
                .retain(|d| d.name != "skip" && d.name != "include");
        }
        let same = |existing: &Field| {
            existing.response_key() == field.response_key()
                && existing.name == field.name
                && existing.arguments == field.arguments
                && existing.directives == field.directives
        };
        let found = match &self.index {
            Some(index) => index.fields.get(field.response_key()).and_then(|at| {
                at.iter()
                    .copied()
                    .find(|&i| matches!(&self.items[i], Selection::Field(f) if same(f)))
            }),
            None => self
                .items
                .iter()
                .position(|item| matches!(item, Selection::Field(f) if same(f))),
        };
        if let Some(i) = found {
            if let Selection::Field(existing) = &mut self.items[i] {
                existing.selections.merge(field.selections);
            }
            return;
        }
        self.push(Selection::Field(field));
    }

    pub fn add_fragment(&mut self, fragment: Fragment) {
        let same = |existing: &Fragment| {
            existing.type_condition == fragment.type_condition
                && existing.directives == fragment.directives
        };
        let found = match &self.index {
            Some(index) => index
                .fragments
                .iter()
                .copied()
                .find(|&i| matches!(&self.items[i], Selection::Fragment(f) if same(f))),
            None => self
                .items
                .iter()
                .position(|item| matches!(item, Selection::Fragment(f) if same(f))),
        };
        if let Some(i) = found {
            if let Selection::Fragment(existing) = &mut self.items[i] {
                existing.selections.merge(fragment.selections);
            }
            return;
        }
        self.push(Selection::Fragment(fragment));
    }

    pub fn add_typename(&mut self) {
        let is_plain_typename = |s: &Selection| matches!(s, Selection::Field(f) if f.name == "__typename" && f.alias.is_none() && f.directives.is_empty());
        let already = match &self.index {
            Some(index) => index
                .fields
                .get("__typename")
                .is_some_and(|at| at.iter().any(|&i| is_plain_typename(&self.items[i]))),
            None => self.items.iter().any(is_plain_typename),
        };
        if !already {
            self.items.insert(
                0,
                Selection::Field(Field::new(Name::new_static_unchecked("__typename"))),
            );
            if self.index.is_some() {
                self.rebuild_index();
            }
        }
    }

    /// Lets a pass over a finished selection change its items in place (`alias_apart` gives
    /// fields aliases); the index of response keys is rebuilt after.
    pub fn edit(&mut self, f: impl FnOnce(&mut [Selection])) {
        f(&mut self.items);
        if self.index.is_some() {
            self.rebuild_index();
        }
    }

    /// The top-level fields answering under `key`.
    pub fn fields_with_key<'s>(&'s self, key: &'s str) -> impl Iterator<Item = &'s Field> + 's {
        let positions: Box<dyn Iterator<Item = usize> + 's> = match &self.index {
            Some(index) => Box::new(index.fields.get(key).into_iter().flatten().copied()),
            None => Box::new(0..self.items.len()),
        };
        positions.filter_map(move |i| match &self.items[i] {
            Selection::Field(f) if f.response_key() == key => Some(f),
            _ => None,
        })
    }

    /// The top-level fields answering under `key`, like [`SelectionSet::fields_with_key`], for a
    /// key borrowed for less time than the fields are.
    pub fn fields_under(&self, key: &str) -> Vec<&Field> {
        let positions: Vec<usize> = match &self.index {
            Some(index) => index.fields.get(key).cloned().unwrap_or_default(),
            None => (0..self.items.len()).collect(),
        };
        positions
            .into_iter()
            .filter_map(|i| match &self.items[i] {
                Selection::Field(f) if f.response_key() == key => Some(f),
                _ => None,
            })
            .collect()
    }

    /// Whether merged with `other` this selection, sent as a representation, would write one field
    /// name twice: the same field under two response keys or with two sets of arguments. Fields
    /// are compared at the same level and under the same type condition.
    pub fn clashes_with(&self, other: &SelectionSet) -> bool {
        other.items.iter().any(|item| match item {
            Selection::Field(theirs) => self.items.iter().any(|mine| match mine {
                Selection::Field(mine) if mine.name == theirs.name => {
                    mine.response_key() != theirs.response_key()
                        || mine.arguments != theirs.arguments
                        || mine.selections.clashes_with(&theirs.selections)
                }
                _ => false,
            }),
            Selection::Fragment(theirs) => self.items.iter().any(|mine| match mine {
                Selection::Fragment(mine) if mine.type_condition == theirs.type_condition => {
                    mine.selections.clashes_with(&theirs.selections)
                }
                _ => false,
            }),
        })
    }

    fn push(&mut self, item: Selection) {
        let at = self.items.len();
        self.items.push(item);
        match &mut self.index {
            Some(index) => index.note(&self.items[at], at),
            None if self.items.len() > INDEXED_FROM => self.rebuild_index(),
            None => {}
        }
    }

    fn rebuild_index(&mut self) {
        let mut index = SetIndex::default();
        for (at, item) in self.items.iter().enumerate() {
            index.note(item, at);
        }
        self.index = Some(Box::new(index));
    }

    pub fn merge(&mut self, other: SelectionSet) {
        for item in other.items {
            match item {
                Selection::Field(f) => self.add_field(f),
                Selection::Fragment(f) => self.add_fragment(f),
            }
        }
    }

    /// The response keys of the top-level fields, without `__typename`.
    pub fn top_level_keys(&self) -> Vec<Name> {
        let mut keys = Vec::new();
        let mut seen = std::collections::HashSet::with_hasher(ahash::RandomState::default());
        self.collect_top_level_keys(&mut keys, &mut seen);
        keys
    }

    fn collect_top_level_keys(
        &self,
        keys: &mut Vec<Name>,
        seen: &mut std::collections::HashSet<Name, ahash::RandomState>,
    ) {
        for item in &self.items {
            match item {
                Selection::Field(f) if f.name != "__typename" => {
                    if seen.insert(f.response_key().clone()) {
                        keys.push(f.response_key().clone());
                    }
                }
                Selection::Field(_) => {}
                Selection::Fragment(f) => f.selections.collect_top_level_keys(keys, seen),
            }
        }
    }

    /// Variables used anywhere in the selection, in first-use order.
    pub fn variables(&self, out: &mut Vec<Name>) {
        for item in &self.items {
            match item {
                Selection::Field(f) => {
                    for arg in &f.arguments {
                        value_variables(&arg.value, out);
                    }
                    directive_variables(&f.directives, out);
                    f.selections.variables(out);
                }
                Selection::Fragment(f) => {
                    directive_variables(&f.directives, out);
                    f.selections.variables(out);
                }
            }
        }
    }

    /// Compact GraphQL text, as sent to subgraphs.
    pub fn write_compact(&self, out: &mut String) {
        out.push('{');
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            match item {
                Selection::Field(f) => write_conditioned(&f.directives, out, |own, out| {
                    if let Some(alias) = &f.alias {
                        out.push_str(alias);
                        out.push(':');
                    }
                    out.push_str(&f.name);
                    write_arguments(&f.arguments, out);
                    write_directive_list(own, out);
                    if !f.selections.is_empty() {
                        f.selections.write_compact(out);
                    }
                }),
                Selection::Fragment(f) => write_conditioned(&f.directives, out, |own, out| {
                    out.push_str("...");
                    if let Some(ty) = &f.type_condition {
                        out.push_str("on ");
                        out.push_str(ty);
                    }
                    write_directive_list(own, out);
                    f.selections.write_compact(out);
                }),
            }
        }
        out.push('}');
    }

    /// Indented GraphQL text, for `seam plan` and plan snapshots.
    pub fn write_pretty(&self, indent: usize, out: &mut String) {
        out.push_str("{\n");
        for item in &self.items {
            push_indent(indent + 1, out);
            match item {
                Selection::Field(f) => write_conditioned(&f.directives, out, |own, out| {
                    if let Some(alias) = &f.alias {
                        let _ = write!(out, "{alias}: ");
                    }
                    out.push_str(&f.name);
                    write_arguments(&f.arguments, out);
                    write_directive_list(own, out);
                    if !f.selections.is_empty() {
                        out.push(' ');
                        f.selections.write_pretty(indent + 1, out);
                    }
                }),
                Selection::Fragment(f) => write_conditioned(&f.directives, out, |own, out| {
                    out.push_str("...");
                    if let Some(ty) = &f.type_condition {
                        out.push_str(" on ");
                        out.push_str(ty);
                    }
                    write_directive_list(own, out);
                    out.push(' ');
                    f.selections.write_pretty(indent + 1, out);
                }),
            }
            out.push('\n');
        }
        push_indent(indent, out);
        out.push('}');
    }
}

pub fn push_indent(indent: usize, out: &mut String) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

fn write_arguments(arguments: &[Node<Argument>], out: &mut String) {
    if arguments.is_empty() {
        return;
    }
    out.push('(');
    for (i, arg) in arguments.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "{}: {}", arg.name, arg.value);
    }
    out.push(')');
}

pub(crate) fn write_directives(directives: &DirectiveList, out: &mut String) {
    for d in directives.iter() {
        write_directive(d, out);
    }
}

fn write_directive(d: &Directive, out: &mut String) {
    out.push(' ');
    out.push('@');
    out.push_str(&d.name);
    write_arguments(&d.arguments, out);
}

fn write_directive_list(directives: &[&Node<Directive>], out: &mut String) {
    for d in directives {
        write_directive(d, out);
    }
}

/// The directives written on a selection, and the repeats of a `@skip` or `@include` it already
/// has. A selection collected through a fragment with its own condition carries both
/// (`... @include(if: $a) { name @include(if: $b) }` asks for `name` under `$a` and `$b`), but
/// GraphQL allows each directive once per selection: each repeat is written as an inline
/// fragment around the selection instead, which asks the same.
type SplitDirectives<'d> = (Vec<&'d Node<Directive>>, Vec<&'d Node<Directive>>);

fn split_repeated_conditions(directives: &DirectiveList) -> SplitDirectives<'_> {
    let mut own: Vec<&Node<Directive>> = Vec::with_capacity(directives.len());
    let mut repeats = Vec::new();
    for d in directives.iter() {
        let conditional = d.name == "skip" || d.name == "include";
        if conditional && own.iter().any(|o| o.name == d.name) {
            repeats.push(d);
        } else {
            own.push(d);
        }
    }
    (own, repeats)
}

/// Writes a selection with `write`, given the directives that go on it; each repeated
/// condition wraps it in an inline fragment (see [`split_repeated_conditions`]).
fn write_conditioned(
    directives: &DirectiveList,
    out: &mut String,
    write: impl FnOnce(&[&Node<Directive>], &mut String),
) {
    let (own, repeats) = split_repeated_conditions(directives);
    for d in &repeats {
        out.push_str("...");
        write_directive(d, out);
        out.push('{');
    }
    write(&own, out);
    for _ in &repeats {
        out.push('}');
    }
}

pub(crate) fn directive_variables(directives: &DirectiveList, out: &mut Vec<Name>) {
    for d in directives.iter() {
        for arg in &d.arguments {
            value_variables(&arg.value, out);
        }
    }
}

fn value_variables(value: &Value, out: &mut Vec<Name>) {
    match value {
        Value::Variable(v) if !out.contains(v) => out.push(v.clone()),
        Value::List(items) => items.iter().for_each(|v| value_variables(v, out)),
        Value::Object(fields) => fields.iter().for_each(|(_, v)| value_variables(v, out)),
        _ => {}
    }
}

impl SetIndex {
    fn note(&mut self, item: &Selection, at: usize) {
        match item {
            Selection::Field(f) => self
                .fields
                .entry(f.response_key().clone())
                .or_default()
                .push(at),
            Selection::Fragment(_) => self.fragments.push(at),
        }
    }
}

/// `@skip`/`@include` directives, the only client directives forwarded to subgraphs.
pub fn conditional_directives(
    directives: &DirectiveList,
) -> impl Iterator<Item = &Node<Directive>> {
    directives
        .iter()
        .filter(|d| d.name == "skip" || d.name == "include")
}
