//! The browser-facing edge in a real headless Chromium: a page from another origin (another
//! port on 127.0.0.1) tries to make the user's browser run a mutation through Seam, and GraphiQL
//! is driven the way a user would drive it. The subgraph records every call, so "refused" means
//! it ran nothing.

mod browser_support;
mod edge_support;

use browser_support::{Browser, Page};
use edge_support::{other_origin, Edge};
use serde_json::{json, Value};

const ANOTHER_SITE: &str = "<!doctype html><html><head><meta charset=\"utf-8\">\
    <title>another site</title></head><body>another site</body></html>";

/// A `no-cors` POST, as a form or a script on any site may send: the page cannot read the
/// answer, but the request still goes out. `body` is a JavaScript expression.
async fn no_cors_post(page: &Page, url: &str, body: &str) -> Value {
    page.evaluate(&format!(
        "fetch({url:?}, {{ method: 'POST', mode: 'no-cors', body: {body} }})
           .then(response => response.type, error => 'failed: ' + error.message)"
    ))
    .await
    .expect("fetch ran")
}

fn mutation_text(note: &str) -> String {
    json!({ "query": format!("mutation {{ record(note: \"{note}\") }}") }).to_string()
}

/// A JSON POST the page wants to read: `{ "read": body }` or `{ "blocked": message }`.
async fn json_post(page: &Page, url: &str, note: &str) -> Value {
    let body = mutation_text(note);
    page.evaluate(&format!(
        "fetch({url:?}, {{ method: 'POST', headers: {{ 'content-type': 'application/json' }},
                         body: {body:?} }})
           .then(response => response.json())
           .then(body => ({{ read: body }}), error => ({{ blocked: error.message }}))"
    ))
    .await
    .expect("fetch ran")
}

/// Runs the mutation over `graphql-transport-ws` from the page: `{ data }` when it ran, else
/// how the socket ended (`code`) and which messages it saw.
async fn websocket_mutation(page: &Page, ws_url: &str, note: &str) -> Value {
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": format!("mutation {{ record(note: \"{note}\") }}") },
    })
    .to_string();
    page.evaluate(&format!(
        "new Promise(resolve => {{
           const socket = new WebSocket({ws_url:?}, 'graphql-transport-ws');
           const seen = [];
           socket.onopen = () => socket.send(JSON.stringify({{ type: 'connection_init' }}));
           socket.onmessage = event => {{
             const message = JSON.parse(event.data);
             seen.push(message.type);
             if (message.type === 'connection_ack') socket.send({subscribe:?});
             if (message.type === 'next') {{ resolve({{ data: message.payload.data, seen }}); socket.close(); }}
           }};
           socket.onclose = event => resolve({{ code: event.code, seen }});
         }})"
    ))
    .await
    .expect("WebSocket script ran")
}

fn ws_url(edge: &Edge) -> String {
    format!("ws://{}/graphql", edge.addr)
}

#[tokio::test]
async fn a_disallowed_origin_cannot_run_a_mutation_by_post_or_websocket() {
    let site = other_origin(ANOTHER_SITE).await;
    let edge = Edge::start("").await;
    let browser = Browser::launch().await;
    let page = browser.page().await;
    page.goto(&format!("{site}/")).await;

    let text = mutation_text("no-cors");
    // A string body goes out as text/plain; a Blob with no type and URLSearchParams as the
    // other two kinds a page can send without a preflight.
    for body in [
        format!("{text:?}"),
        format!("new Blob([{text:?}])"),
        "new URLSearchParams({ query: 'mutation { record(note: \"form\") }' })".to_owned(),
    ] {
        // The request went out and was answered (opaquely): nothing can arrive later.
        assert_eq!(
            no_cors_post(&page, &edge.url, &body).await,
            json!("opaque"),
            "{body}"
        );
    }

    let socket = websocket_mutation(&page, &ws_url(&edge), "ws").await;
    assert_eq!(socket, json!({ "code": 1006, "seen": [] }));

    // A JSON POST needs a preflight, which names no allowed origin: the browser stops there.
    let read = json_post(&page, &edge.url, "json").await;
    assert!(read.get("blocked").is_some(), "{read}");

    assert_eq!(edge.calls(), Vec::<String>::new());
}

#[tokio::test]
async fn without_csrf_prevention_a_no_cors_post_from_another_site_runs_the_mutation() {
    // The control for the test above: the same attack succeeds when the layer is off.
    let site = other_origin(ANOTHER_SITE).await;
    let edge = Edge::start("csrf:\n  enabled: false\n").await;
    let browser = Browser::launch().await;
    let page = browser.page().await;
    page.goto(&format!("{site}/")).await;
    let text = mutation_text("no-cors");
    assert_eq!(
        no_cors_post(&page, &edge.url, &format!("new Blob([{text:?}])")).await,
        json!("opaque")
    );
    assert_eq!(edge.calls(), ["record:no-cors"]);
}

#[tokio::test]
async fn an_allowed_origin_reads_a_mutation_over_fetch_and_websocket() {
    let site = other_origin(ANOTHER_SITE).await;
    let edge = Edge::start(&format!("cors:\n  allow_origins: [{site}]\n")).await;
    let browser = Browser::launch().await;
    let page = browser.page().await;
    page.goto(&format!("{site}/")).await;

    let read = json_post(&page, &edge.url, "cors").await;
    assert_eq!(read, json!({ "read": { "data": { "record": 1 } } }));
    let socket = websocket_mutation(&page, &ws_url(&edge), "ws").await;
    assert_eq!(socket["data"], json!({ "record": 2 }), "{socket}");
    assert_eq!(edge.calls(), ["record:cors", "record:ws"]);
}

#[tokio::test]
async fn an_origin_allowed_by_regex_reads_a_mutation_over_fetch_and_websocket() {
    let site = other_origin(ANOTHER_SITE).await;
    let edge =
        Edge::start("cors:\n  allow_origin_regexes: ['http://127\\.0\\.0\\.1:\\d+']\n").await;
    let browser = Browser::launch().await;
    let page = browser.page().await;
    page.goto(&format!("{site}/")).await;

    let read = json_post(&page, &edge.url, "regex").await;
    assert_eq!(read, json!({ "read": { "data": { "record": 1 } } }));
    let socket = websocket_mutation(&page, &ws_url(&edge), "ws").await;
    assert_eq!(socket["data"], json!({ "record": 2 }), "{socket}");
    assert_eq!(edge.calls(), ["record:regex", "record:ws"]);
}

/// The text of one of GraphiQL's CodeMirror editors, in JavaScript.
fn editor_text(selector: &str) -> String {
    format!("(document.querySelector('{selector} .CodeMirror')?.CodeMirror.getValue() ?? '')")
}

/// Puts `text` into the query editor and presses the run button once GraphiQL has parsed it, as
/// a user who types and then clicks does: GraphiQL decides between HTTP and the WebSocket from
/// its parse of the editor, which it makes shortly after each change.
async fn run_in_graphiql(page: &Page, text: &str) {
    let editor = "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror";
    page.evaluate(&format!("{editor}.setValue({text:?})"))
        .await
        .expect("set the query");
    page.wait_until(
        &format!("{editor}.documentAST?.loc?.source?.body === {text:?}"),
        "GraphiQL to parse the query",
    )
    .await;
    page.evaluate("document.querySelector('.graphiql-execute-button').click()")
        .await
        .expect("press run");
}

/// The URLs that went to a host: all but `data:` ones.
fn fetched(urls: Vec<String>) -> Vec<String> {
    urls.into_iter()
        .filter(|url| !url.starts_with("data:"))
        .collect()
}

#[tokio::test]
async fn graphiql_runs_a_query_and_a_subscription_using_only_its_own_origin() {
    let edge = Edge::start("").await;
    let browser = Browser::launch().await;
    let page = browser.page().await;
    page.call("Network.enable", json!({}))
        .await
        .expect("Network.enable");
    page.goto(&edge.url).await;
    page.wait_until(
        "document.querySelector('.graphiql-query-editor .CodeMirror') !== null",
        "the GraphiQL editor to render",
    )
    .await;

    run_in_graphiql(&page, "{ hello }").await;
    page.wait_until(
        &format!(
            "{}.includes('\"hello\": \"world\"')",
            editor_text(".graphiql-response")
        ),
        "the query's result in the result pane",
    )
    .await;

    run_in_graphiql(&page, "subscription { noted }").await;
    edge.wait_for_subscribers(1).await;
    edge.announce("sent by the test");
    page.wait_until(
        &format!(
            "{}.includes('sent by the test')",
            editor_text(".graphiql-response")
        ),
        "the subscription's event in the result pane",
    )
    .await;

    let resources = page
        .evaluate("performance.getEntriesByType('resource').map(entry => entry.name)")
        .await
        .expect("resource entries");
    // GraphiQL's stylesheet embeds its fonts as `data:` URLs, which ask no host for anything.
    let resources = fetched(serde_json::from_value(resources).unwrap());
    assert!(
        resources.len() >= 7,
        "the page's scripts and styles: {resources:?}"
    );
    let own = format!("{}/", edge.origin);
    for url in &resources {
        assert!(
            url.starts_with(&own),
            "{url} is not on {own}: {resources:?}"
        );
    }

    // Everything the tab asked for, from the browser's side: the document, its assets, the
    // POSTs and the subscription's socket.
    let requested = fetched(
        page.events("Network.requestWillBeSent")
            .iter()
            .map(|event| {
                event["request"]["url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect(),
    );
    let sockets: Vec<String> = page
        .events("Network.webSocketCreated")
        .iter()
        .map(|event| event["url"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        requested.iter().any(|url| url.ends_with("graphiql.min.js")),
        "{requested:?}"
    );
    assert_eq!(sockets, [ws_url(&edge)]);
    for url in &requested {
        assert!(
            url.starts_with(&own),
            "{url} is not on {own}: {requested:?}"
        );
    }
    assert_eq!(edge.calls(), ["hello"]);
}
