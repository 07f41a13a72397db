//! The pages of the problem types: `/problems/{name}` says what a problem means and what to
//! do, read from `docs/problems.md` (one text for the docs and the server).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;

use super::Ctx;
use super::layout::page_with;

const DOC: &str = include_str!("../../../../../docs/problems.md");

/// Each problem type: its name, status, meaning and what to do.
fn types() -> Vec<[String; 4]> {
    DOC.lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split(" | ")
                .map(str::trim)
                .collect();
            let name = cells
                .first()?
                .strip_prefix("`/problems/")?
                .strip_suffix('`')?;
            match cells.as_slice() {
                [_, status, meaning, todo] => Some([
                    name.to_owned(),
                    (*status).to_owned(),
                    (*meaning).to_owned(),
                    (*todo).to_owned(),
                ]),
                _ => None,
            }
        })
        .collect()
}

/// A cell's text as the docs show it: what stands between backticks as code, not as backticks.
fn prose(text: &str) -> maud::Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

pub async fn page(ctx: Ctx, Path(name): Path<String>) -> Response {
    let all = types();
    let Some([name, status, meaning, todo]) = all.into_iter().find(|t| t[0] == name) else {
        return page_with(
            &ctx,
            StatusCode::NOT_FOUND,
            ctx.t("problem.404"),
            html! { h1 { (ctx.t("problem.404")) } p { a href="/problems" { (ctx.t("problems.all")) } } },
        );
    };
    page_with(
        &ctx,
        StatusCode::OK,
        &name,
        html! {
            h1 { code { "/problems/" (name) } }
            dl.facts {
                dt { (ctx.t("problems.status")) } dd { (status) }
                dt { (ctx.t("problems.means")) } dd { (prose(&meaning)) }
                dt { (ctx.t("problems.todo")) } dd { (prose(&todo)) }
            }
            p { a href="/problems" { (ctx.t("problems.all")) } }
        },
    )
}

pub async fn index(ctx: Ctx) -> Response {
    page_with(
        &ctx,
        StatusCode::OK,
        ctx.t("problems.all"),
        html! {
            h1 { (ctx.t("problems.all")) }
            ul { @for [name, status, meaning, _] in types() {
                li { a href={ "/problems/" (name) } { code { (name) } } " (" (status) ") — " (prose(&meaning)) }
            } }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_in_a_cell_is_shown_as_code_and_escaped() {
        assert_eq!(
            prose("send `?confirm=<sha>` again, `a` and b").into_string(),
            "send <code>?confirm=&lt;sha&gt;</code> again, <code>a</code> and b"
        );
        assert_eq!(prose("no code").into_string(), "no code");
    }

    #[test]
    fn every_problem_the_server_answers_with_has_a_page() {
        let names: Vec<String> = types().into_iter().map(|t| t[0].clone()).collect();
        let sources = [include_str!("../error.rs"), include_str!("../guard.rs")];
        let mut used = Vec::new();
        for s in sources {
            for part in s.split('"').skip(1).step_by(2) {
                if part.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    && names.iter().any(|n| n == part)
                {
                    used.push(part.to_owned());
                }
            }
        }
        for slug in [
            "bad-request",
            "unauthorized",
            "forbidden",
            "not-found",
            "method-not-allowed",
            "timeout",
            "conflict",
            "needs-confirmation",
            "too-large",
            "uri-too-long",
            "unsupported-media-type",
            "invalid",
            "too-many-requests",
            "headers-too-large",
            "internal",
            "unavailable",
            "storage-failed",
        ] {
            assert!(
                names.iter().any(|n| n == slug),
                "docs/problems.md lacks {slug}"
            );
            assert!(
                include_str!("../error.rs").contains(slug)
                    || include_str!("../guard.rs").contains(slug),
                "{slug} is documented but never answered"
            );
        }
        assert!(used.len() >= 10, "{used:?}");
    }
}
