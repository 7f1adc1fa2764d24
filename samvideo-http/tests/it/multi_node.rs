//! Two API nodes (two in-process `Server`s, each with its own data dir and workers) on one
//! Postgres database: what one node stores, the other serves, and the monthly quota counts the
//! tasks of both, and the rate limits count the requests of both.

use crate::support::{relaxed, simple_body, TestServer, CORE};
use samvideo_http::billing::BillingPlan;
use samvideo_http::config::Rate;
use samvideo_http::store::StoreLocation;
use samvideo_test_support::postgres::fresh_database;
use serde_json::json;

const MEDIA: &str = "http://127.0.0.1:9/a.png";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_share_keys_tasks_templates_and_quotas() {
    let store = StoreLocation::Postgres(fresh_database());
    let (dir_a, dir_b) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    let a = TestServer::start(relaxed(dir_a.path()).with_store(store.clone()).with_free_monthly_videos(3)).await;
    let b = TestServer::start(relaxed(dir_b.path()).with_store(store).with_free_monthly_videos(3)).await;

    let key = a.key("shared", BillingPlan::Free);
    let (code, body) = b.get(&key, &format!("{CORE}/tasks")).await;
    assert_eq!(code, 200, "a key made on node a works on node b: {body}");

    // A create with an Idempotency-Key, retried on the other node: the same task, charged once.
    let create_once = |node: &TestServer, idempotency: &str| {
        let request = node
            .client
            .post(node.url(&format!("{CORE}/simple-video")))
            .header("X-API-Key", &key)
            .header("Idempotency-Key", idempotency)
            .body(simple_body(MEDIA).to_string());
        async move {
            let r = request.send().await.expect("send");
            let code = r.status().as_u16();
            let body: serde_json::Value = r.json().await.expect("json");
            assert_eq!(code, 200, "{body}");
            body["data"]["id"].as_str().expect("id").to_string()
        }
    };
    let on_a = create_once(&a, "order-1").await;
    assert_eq!(create_once(&b, "order-1").await, on_a, "a retry on node b answers node a's task");
    let (code, progress) = b.get(&key, &format!("{CORE}/progress/{on_a}")).await;
    assert_eq!(code, 200, "node b serves node a's task: {progress}");
    assert_eq!(progress["data"]["id"], on_a.as_str());
    b.submit(&key, &simple_body(MEDIA)).await;
    a.submit(&key, &simple_body(MEDIA)).await;
    for node in [&a, &b] {
        let (code, body) = node.post(&key, &format!("{CORE}/simple-video"), &simple_body(MEDIA)).await;
        assert_eq!(code, 403, "the quota of 3 counts both nodes' tasks, the retry once: {body}");
    }
    assert_eq!(create_once(&b, "order-1").await, on_a, "a retry past the quota still answers its task");

    let template = json!({"name": "Shared", "settings": {"output_settings": {"aspect_ratio": "9:16"}}});
    let (code, made) = a.post(&key, "/api/templates/", &template).await;
    assert_eq!(code, 201, "{made}");
    let (code, listed) = b.get(&key, "/api/templates/list/").await;
    assert_eq!(code, 200, "{listed}");
    assert!(listed.to_string().contains("\"Shared\""), "node b lists node a's template: {listed}");

    // A task ends once, rendered by whichever node's worker claimed it.
    let done = b.wait_terminal(&key, &on_a, 60).await;
    assert_eq!(done["status"], "failed", "unreachable media: {done}");
    a.server.stop().await;
    b.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_postgres_share_the_rate_limit() {
    let store = StoreLocation::Postgres(fresh_database());
    let (dir_a, dir_b) = (tempfile::tempdir().expect("tmp"), tempfile::tempdir().expect("tmp"));
    let config = |dir: &std::path::Path| {
        relaxed(dir).with_store(store.clone()).with_rates(
            Rate::per_minute(5),
            Rate::per_minute(3),
            Rate::per_minute(60),
        )
    };
    let a = TestServer::start(config(dir_a.path())).await;
    let b = TestServer::start(config(dir_b.path())).await;
    let key = a.key("pro", BillingPlan::Pro);
    // 20 creates at once, half on each node. A body that fails validation is enough: the
    // limiter counts a create before reading its body, and nothing gets rendered.
    let creates: Vec<_> = (0..20)
        .map(|n| {
            let base = if n % 2 == 0 { a.base.clone() } else { b.base.clone() };
            let (client, key) = (a.client.clone(), key.clone());
            tokio::spawn(async move {
                let r = client
                    .post(format!("{base}{CORE}/simple-video"))
                    .header("X-API-Key", key)
                    .body("{bad")
                    .send()
                    .await
                    .expect("send");
                r.status().as_u16()
            })
        })
        .collect();
    let mut codes = Vec::new();
    for c in creates {
        codes.push(c.await.expect("join"));
    }
    let through = codes.iter().filter(|c| **c == 400).count();
    let limited = codes.iter().filter(|c| **c == 429).count();
    assert_eq!((through, limited), (5, 15), "5 a minute across both nodes: {codes:?}");
    a.server.stop().await;
    b.server.stop().await;
}
