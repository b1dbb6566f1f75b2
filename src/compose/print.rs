//! Printing the supergraph SDL in the layout rover and Hive produce, so one reader handles ours and
//! theirs and diffs against their output stay small. The join spec version is the one Apollo
//! would link for the same subgraphs (see [`JoinVersion`]).

use std::fmt::Write as _;

use apollo_compiler::ast::Directive;
use apollo_compiler::Node;

use super::composed;
use super::cost;
use super::model::{
    Graph, JoinField, JoinType, JoinVersion, SuperField, SuperInputValue, SuperType, Supergraph,
};
use super::subgraph::TypeKind;
use crate::sources::string_literal;

/// `@join__directive` (join v0.4 and later) carries subgraph directives the supergraph passes on;
/// Seam composes none, but declares it as Apollo does so the header matches the linked version.
const JOIN_DIRECTIVE_DIRECTIVE: &str = "directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION";

const JOIN_ENUM_VALUE_DIRECTIVE: &str =
    "directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE";

const JOIN_FIELD_ARGUMENTS_V0_3: &str = "graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean";

/// `(name, definition)` of the directives every join version defines.
const JOIN_OTHER_DIRECTIVES: [(&str, &str); 5] = [
    ("join__graph", "directive @join__graph(name: String!, url: String!) on ENUM_VALUE"),
    ("join__implements", "directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE"),
    ("join__type", "directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR"),
    ("join__unionMember", "directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION"),
    ("link", "directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA"),
];

/// `@fromContext` arguments (join v0.5), declared for the same reason as `@join__directive`.
const JOIN_CONTEXT_ARGUMENT: &str = r#"input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}
"#;

/// The context spec (v0.1), linked when a subgraph uses `@context`: Apollo defines `@context` under
/// its own name and `@fromContext` under the spec's prefix, since only types keep theirs.
const CONTEXT_DIRECTIVE: &str =
    "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION";
const FROM_CONTEXT_DIRECTIVE: &str =
    "directive @context__fromContext(field: context__ContextFieldValue) on ARGUMENT_DEFINITION";

const INACCESSIBLE_DIRECTIVE: &str = "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION";

const TAG_DIRECTIVE: &str = "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA";

/// apollo-compiler does not define `@oneOf` itself yet, so a supergraph that keeps it must.
const ONE_OF_DIRECTIVE: &str = "directive @oneOf on INPUT_OBJECT";

const LINK_PURPOSE: &str = r#"enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}
"#;

pub(crate) fn print(supergraph: &Supergraph) -> String {
    let mut out = String::new();
    print_schema_definition(&mut out, supergraph);
    out.push('\n');
    for (_, definition) in directive_definitions(supergraph) {
        out.push_str(&definition);
        out.push_str("\n\n");
    }
    if supergraph.join_version >= JoinVersion::V0_5 {
        out.push_str(JOIN_CONTEXT_ARGUMENT);
        out.push('\n');
    }
    if supergraph.join_version >= JoinVersion::V0_4 {
        out.push_str("scalar join__DirectiveArguments\n\n");
    }
    if supergraph.uses_context {
        out.push_str("scalar context__ContextFieldValue\n\n");
    }
    out.push_str("scalar join__FieldSet\n\n");
    if supergraph.join_version >= JoinVersion::V0_5 {
        out.push_str("scalar join__FieldValue\n\n");
    }
    print_graph_enum(&mut out, &supergraph.graphs);
    out.push_str("\nscalar link__Import\n\n");
    out.push_str(LINK_PURPOSE);
    for scalar in supergraph.access.scalars() {
        let _ = write!(out, "\n{scalar}\n");
    }
    for ty in &supergraph.types {
        out.push('\n');
        print_type(&mut out, ty, &supergraph.graphs);
    }
    out
}

/// `(name, definition)` of every directive the supergraph defines, sorted by name as Apollo
/// prints them (a renamed `@cost` sorts under its new name).
fn directive_definitions(supergraph: &Supergraph) -> Vec<(String, String)> {
    let version = supergraph.join_version;
    let mut definitions: Vec<(String, String)> = JOIN_OTHER_DIRECTIVES
        .iter()
        .map(|(name, definition)| (name.to_string(), definition.to_string()))
        .collect();
    let mut arguments = JOIN_FIELD_ARGUMENTS_V0_3.to_string();
    if version >= JoinVersion::V0_4 {
        arguments.push_str(", overrideLabel: String");
        definitions.push(("join__directive".into(), JOIN_DIRECTIVE_DIRECTIVE.into()));
    }
    if version >= JoinVersion::V0_5 {
        arguments.push_str(", contextArguments: [join__ContextArgument!]");
    }
    definitions.push((
        "join__field".into(),
        format!(
            "directive @join__field({arguments}) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION"
        ),
    ));
    definitions.push(("join__enumValue".into(), JOIN_ENUM_VALUE_DIRECTIVE.into()));
    if supergraph.uses_inaccessible {
        definitions.push(("inaccessible".into(), INACCESSIBLE_DIRECTIVE.into()));
    }
    if supergraph.uses_tag {
        definitions.push(("tag".into(), TAG_DIRECTIVE.into()));
    }
    if let Some(names) = &supergraph.cost {
        definitions.extend(cost::definitions(names));
    }
    definitions.extend(supergraph.access.definitions());
    if supergraph.uses_one_of {
        definitions.push(("oneOf".into(), ONE_OF_DIRECTIVE.into()));
    }
    if supergraph.uses_context {
        definitions.push(("context".into(), CONTEXT_DIRECTIVE.into()));
        definitions.push(("context__fromContext".into(), FROM_CONTEXT_DIRECTIVE.into()));
    }
    for composed in &supergraph.composed {
        definitions.push((
            composed.name.to_string(),
            composed.definition.serialize().no_indent().to_string(),
        ));
    }
    for executable in &supergraph.executable {
        definitions.push((executable.name.to_string(), executable.to_string()));
    }
    definitions.sort_by(|a, b| a.0.cmp(&b.0));
    definitions
}

fn print_schema_definition(out: &mut String, supergraph: &Supergraph) {
    out.push_str("schema\n");
    out.push_str("  @link(url: \"https://specs.apollo.dev/link/v1.0\")\n");
    let _ = writeln!(
        out,
        "  @link(url: \"https://specs.apollo.dev/join/{}\", for: EXECUTION)",
        supergraph.join_version.as_str()
    );
    if supergraph.uses_inaccessible {
        out.push_str(
            "  @link(url: \"https://specs.apollo.dev/inaccessible/v0.2\", for: SECURITY)\n",
        );
    }
    if supergraph.uses_tag {
        out.push_str("  @link(url: \"https://specs.apollo.dev/tag/v0.3\")\n");
    }
    for link in supergraph.access.links() {
        let _ = writeln!(out, "  {link}");
    }
    if let Some(names) = &supergraph.cost {
        let _ = writeln!(out, "  {}", cost::link(names));
    }
    if supergraph.uses_context {
        out.push_str("  @link(url: \"https://specs.apollo.dev/context/v0.1\", for: SECURITY)\n");
    }
    for link in composed::links(&supergraph.composed) {
        let _ = writeln!(out, "  {link}");
    }
    out.push_str("{\n");
    for (operation, root) in [
        ("query", "Query"),
        ("mutation", "Mutation"),
        ("subscription", "Subscription"),
    ] {
        if supergraph.types.iter().any(|ty| ty.name == root) {
            let _ = writeln!(out, "  {operation}: {root}");
        }
    }
    out.push_str("}\n");
}

fn print_graph_enum(out: &mut String, graphs: &[Graph]) {
    out.push_str("enum join__Graph {\n");
    for graph in graphs {
        let _ = writeln!(
            out,
            "  {} @join__graph(name: {}, url: {})",
            graph.enum_value,
            string_literal(&graph.name),
            string_literal(&graph.url)
        );
    }
    out.push_str("}\n");
}

fn print_type(out: &mut String, ty: &SuperType, graphs: &[Graph]) {
    print_description(out, ty.description.as_deref(), "");
    let keyword = match ty.kind {
        TypeKind::Scalar => "scalar",
        TypeKind::Object => "type",
        TypeKind::Interface => "interface",
        TypeKind::Union => "union",
        TypeKind::Enum => "enum",
        TypeKind::InputObject => "input",
    };
    let _ = write!(out, "{keyword} {}", ty.name);
    if !ty.interfaces.is_empty() {
        let interfaces: Vec<&str> = ty.interfaces.iter().map(|name| name.as_str()).collect();
        let _ = write!(out, " implements {}", interfaces.join(" & "));
    }
    out.push('\n');

    for (graph, interface) in &ty.join_implements {
        let _ = writeln!(
            out,
            "  @join__implements(graph: {}, interface: {})",
            graphs[*graph].enum_value,
            string_literal(interface)
        );
    }
    for join in &ty.join_types {
        let _ = writeln!(out, "  {}", join_type(join, graphs));
    }
    for (graph, member) in &ty.join_members {
        let _ = writeln!(
            out,
            "  @join__unionMember(graph: {}, member: {})",
            graphs[*graph].enum_value,
            string_literal(member)
        );
    }
    for context in &ty.contexts {
        let _ = writeln!(out, "  @context(name: {})", string_literal(context));
    }
    for directive in &ty.directives {
        let _ = writeln!(out, "  {}", directive.serialize().no_indent());
    }

    match ty.kind {
        TypeKind::Scalar => {}
        TypeKind::Union => {
            if !ty.members.is_empty() {
                let members: Vec<&str> = ty.members.iter().map(|name| name.as_str()).collect();
                let _ = writeln!(out, " = {}", members.join(" | "));
            }
        }
        TypeKind::Enum => {
            out.push_str("{\n");
            for value in ty.values.values() {
                print_description(out, value.description.as_deref(), "  ");
                let _ = write!(out, "  {}", value.name);
                let (inaccessible, others) = split_inaccessible(&value.directives);
                print_inline_directives(out, &inaccessible);
                for graph in &value.graphs {
                    let _ = write!(
                        out,
                        " @join__enumValue(graph: {})",
                        graphs[*graph].enum_value
                    );
                }
                print_inline_directives(out, &others);
                out.push('\n');
            }
            out.push_str("}\n");
        }
        TypeKind::Object | TypeKind::Interface | TypeKind::InputObject => {
            out.push_str("{\n");
            for field in ty.fields.values() {
                print_field(out, field, graphs);
            }
            out.push_str("}\n");
        }
    }
}

fn join_type(join: &JoinType, graphs: &[Graph]) -> String {
    let mut printed = format!("@join__type(graph: {}", graphs[join.graph].enum_value);
    if let Some(key) = &join.key {
        let _ = write!(printed, ", key: {}", string_literal(key));
    }
    if join.extension {
        printed.push_str(", extension: true");
    }
    if !join.resolvable {
        printed.push_str(", resolvable: false");
    }
    if join.interface_object {
        printed.push_str(", isInterfaceObject: true");
    }
    printed.push(')');
    printed
}

fn print_field(out: &mut String, field: &SuperField, graphs: &[Graph]) {
    print_description(out, field.description.as_deref(), "  ");
    let _ = write!(out, "  {}", field.name);
    print_arguments(out, &field.args);
    let _ = write!(out, ": {}", field.ty);
    if let Some(default) = &field.default {
        let _ = write!(out, " = {}", default.serialize().no_indent());
    }
    let (inaccessible, others) = split_inaccessible(&field.directives);
    print_inline_directives(out, &inaccessible);
    for join in &field.join_fields {
        out.push(' ');
        out.push_str(&join_field(join, graphs));
    }
    print_inline_directives(out, &others);
    out.push('\n');
}

/// Arguments go on one line, unless one has a description, which needs lines of its own.
/// Values and directives print without line breaks (`{size: 20}`), as Apollo prints them.
fn print_arguments(out: &mut String, args: &[SuperInputValue]) {
    if args.is_empty() {
        return;
    }
    let argument = |arg: &SuperInputValue| {
        let mut printed = format!("{}: {}", arg.name, arg.ty);
        if let Some(default) = &arg.default {
            let _ = write!(printed, " = {}", default.serialize().no_indent());
        }
        for directive in &arg.directives {
            let _ = write!(printed, " {}", directive.serialize().no_indent());
        }
        printed
    };
    if args.iter().all(|arg| arg.description.is_none()) {
        let printed: Vec<String> = args.iter().map(argument).collect();
        let _ = write!(out, "({})", printed.join(", "));
        return;
    }
    out.push_str("(\n");
    for arg in args {
        print_description(out, arg.description.as_deref(), "    ");
        let _ = writeln!(out, "    {}", argument(arg));
    }
    out.push_str("  )");
}

fn join_field(join: &JoinField, graphs: &[Graph]) -> String {
    let mut arguments = Vec::new();
    if let Some(graph) = join.graph {
        arguments.push(format!("graph: {}", graphs[graph].enum_value));
    }
    if let Some(requires) = &join.requires {
        arguments.push(format!("requires: {}", string_literal(requires)));
    }
    if let Some(provides) = &join.provides {
        arguments.push(format!("provides: {}", string_literal(provides)));
    }
    if let Some(ty) = &join.ty {
        arguments.push(format!("type: {}", string_literal(&ty.to_string())));
    }
    if join.external {
        arguments.push("external: true".to_string());
    }
    if let Some(from) = &join.override_from {
        arguments.push(format!("override: {}", string_literal(from)));
    }
    if join.used_overridden {
        arguments.push("usedOverridden: true".to_string());
    }
    if let Some(label) = &join.override_label {
        arguments.push(format!("overrideLabel: {}", string_literal(label)));
    }
    if !join.context_arguments.is_empty() {
        let entries: Vec<String> = join
            .context_arguments
            .iter()
            .map(|argument| {
                format!(
                    "{{context: {}, name: {}, type: {}, selection: {}}}",
                    string_literal(&argument.context),
                    string_literal(&argument.name),
                    string_literal(&argument.ty),
                    string_literal(&argument.selection)
                )
            })
            .collect();
        arguments.push(format!("contextArguments: [{}]", entries.join(", ")));
    }
    if arguments.is_empty() {
        "@join__field".to_string()
    } else {
        format!("@join__field({})", arguments.join(", "))
    }
}

/// Apollo prints `@inaccessible` on a field or enum value before its join directives and the
/// other directives after them; Seam does the same so its output diffs cleanly against rover's.
fn split_inaccessible(
    directives: &[Node<Directive>],
) -> (Vec<Node<Directive>>, Vec<Node<Directive>>) {
    directives
        .iter()
        .cloned()
        .partition(|directive| directive.name == "inaccessible")
}

fn print_inline_directives(out: &mut String, directives: &[Node<Directive>]) {
    for directive in directives {
        let _ = write!(out, " {}", directive.serialize().no_indent());
    }
}

/// Descriptions print as block strings where the text survives the block-string rules (no
/// `\r`, no blank first or last line, no common indentation, which a reader would strip), and as
/// ordinary escaped strings otherwise.
fn print_description(out: &mut String, description: Option<&str>, indent: &str) {
    let Some(description) = description else {
        return;
    };
    if !fits_block_string(description) {
        let _ = writeln!(out, "{indent}{}", string_literal(description));
        return;
    }
    let escaped = description.replace("\"\"\"", "\\\"\"\"");
    let single_line = !escaped.contains('\n')
        && !escaped.ends_with('"')
        && !escaped.ends_with('\\')
        && escaped.len() <= 70;
    if single_line {
        let _ = writeln!(out, "{indent}\"\"\"{escaped}\"\"\"");
        return;
    }
    let _ = writeln!(out, "{indent}\"\"\"");
    for line in escaped.split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    let _ = writeln!(out, "{indent}\"\"\"");
}

fn fits_block_string(text: &str) -> bool {
    let is_blank = |line: &str| line.trim_start_matches([' ', '\t']).is_empty();
    if text.contains('\r') {
        return false;
    }
    let lines: Vec<&str> = text.split('\n').collect();
    if lines.first().is_some_and(|line| is_blank(line))
        || lines.last().is_some_and(|line| is_blank(line))
    {
        return false;
    }
    // Printed on lines of their own, all lines share the printer's indentation, and a reader
    // strips whatever indentation every line has in common: only text without one survives.
    let common_indent = lines
        .iter()
        .filter(|line| !is_blank(line))
        .map(|line| line.len() - line.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    common_indent == 0
}
