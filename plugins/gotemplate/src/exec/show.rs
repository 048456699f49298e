//! The node an execution error names: its position as Go counts it, and
//! its text as Go prints it (`node.String()`), for
//! `template: message:LINE:COL: executing "message" at <TEXT>: …`.

use gotmpl::parse::{CommandNode, Expr, PipeNode, TemplateNode};

/// A node Go's executor can be "at".
#[derive(Clone, Copy)]
pub(crate) enum Node<'a> {
    Expr(&'a Expr),
    Command(&'a CommandNode),
    Pipe(&'a PipeNode),
    Template(&'a TemplateNode),
}

impl Node<'_> {
    /// The byte offset Go gives the node.
    pub(crate) fn offset(&self, src: &str) -> usize {
        match self {
            Node::Expr(expr) => expr_offset(expr, src),
            Node::Command(cmd) => cmd.args.first().map_or(cmd.pos.offset, |e| start(e, src)),
            Node::Pipe(pipe) => skip_space(src, pipe.pos.offset),
            // Go places a {{template}} at its name.
            Node::Template(call) => src
                .get(call.pos.offset..)
                .and_then(|rest| rest.find(['"', '`']))
                .map_or(call.pos.offset, |i| call.pos.offset + i),
        }
    }

    /// The node as Go prints it.
    pub(crate) fn text(&self, src: &str) -> String {
        match self {
            Node::Expr(expr) => expr_text(expr, src),
            Node::Command(cmd) => command_text(cmd, src),
            Node::Pipe(pipe) => pipe_text(pipe, src),
            Node::Template(call) => match &call.pipe {
                Some(pipe) => format!(
                    "{{{{template {:?} {}}}}}",
                    call.name.as_str(),
                    pipe_text(pipe, src)
                ),
                None => format!("{{{{template {:?}}}}}", call.name.as_str()),
            },
        }
    }
}

fn skip_space(src: &str, offset: usize) -> usize {
    let rest = src.get(offset..).unwrap_or("");
    let rest = rest.strip_prefix('(').unwrap_or(rest);
    src.len() - rest.trim_start().len()
}

/// Where an expression's first token starts.
fn start(expr: &Expr, src: &str) -> usize {
    match expr {
        Expr::Pipe(pos, _) => skip_space(src, pos.offset),
        Expr::Chain(_, inner, _) => start(inner, src),
        other => other.pos().offset,
    }
}

/// Go's position for an expression: a field chain such as `.a.b` or
/// `$x.a.b` is placed at its second part (`.b`, `.a`).
fn expr_offset(expr: &Expr, src: &str) -> usize {
    match expr {
        Expr::Field(pos, fields) if fields.len() > 1 => pos.offset + 1 + fields[0].len(),
        Expr::Variable(pos, name, fields) if !fields.is_empty() => pos.offset + name.len(),
        other => start(other, src),
    }
}

/// A literal's text, as written in the template.
pub(crate) fn token(src: &str, offset: usize) -> &str {
    let rest = src.get(offset..).unwrap_or("");
    let end = match rest.as_bytes().first() {
        Some(b'`') => rest[1..].find('`').map_or(rest.len(), |i| i + 2),
        Some(&quote @ (b'"' | b'\'')) => {
            let mut escaped = false;
            rest.bytes()
                .enumerate()
                .skip(1)
                .find(|&(_, b)| {
                    let end = !escaped && b == quote;
                    escaped = !escaped && b == b'\\';
                    end
                })
                .map_or(rest.len(), |(i, _)| i + 1)
        }
        _ => rest
            .find(|c: char| c.is_whitespace() || "()|}{,".contains(c))
            .unwrap_or(rest.len()),
    };
    &rest[..end]
}

fn fields_text(fields: &[gotmpl::parse::SmolStr]) -> String {
    fields.iter().map(|f| format!(".{f}")).collect()
}

fn expr_text(expr: &Expr, src: &str) -> String {
    match expr {
        Expr::Dot(_) => ".".to_string(),
        Expr::Field(_, fields) => fields_text(fields),
        Expr::Variable(_, name, fields) => format!("{name}{}", fields_text(fields)),
        Expr::Identifier(_, name) => name.to_string(),
        Expr::String(pos, _) | Expr::Number(pos, _) => token(src, pos.offset).to_string(),
        Expr::Bool(_, b) => b.to_string(),
        Expr::Nil(_) => "nil".to_string(),
        Expr::Pipe(_, pipe) => format!("({})", pipe_text(pipe, src)),
        Expr::Chain(_, inner, fields) => {
            format!("{}{}", expr_text(inner, src), fields_text(fields))
        }
    }
}

fn command_text(cmd: &CommandNode, src: &str) -> String {
    cmd.args
        .iter()
        .map(|arg| expr_text(arg, src))
        .collect::<Vec<_>>()
        .join(" ")
}

fn pipe_text(pipe: &PipeNode, src: &str) -> String {
    let decl = if pipe.decl.is_empty() {
        String::new()
    } else {
        let op = if pipe.is_assign { "=" } else { ":=" };
        format!("{} {op} ", pipe.decl.join(", "))
    };
    let commands: Vec<String> = pipe.commands.iter().map(|c| command_text(c, src)).collect();
    format!("{decl}{}", commands.join(" | "))
}
