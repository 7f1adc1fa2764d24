//! Putting a finished render into the object store, through the HTTP API on a real server
//! over a folder of objects: an output folder that cannot be written (replaced by a plain file,
//! then put back: a real failure of the file system, also as root) makes the worker try again
//! while it holds the lease; kept broken past its tries, the task goes back to the queue with
//! the reason and a later claim renders it again, bounded by `--max-attempts`.

use std::path::Path;
use std::time::{Duration, Instant};

use samvideo_http::billing::BillingPlan;

use crate::support::{image_video, relaxed, Media, TestServer, CORE};

/// Break the folder `dir` (a plain file takes its place) or put it back.
fn break_folder(dir: &Path, broken: bool) {
    if broken {
        std::fs::remove_dir_all(dir).expect("remove the folder");
        std::fs::write(dir, b"not a folder").expect("a file in its place");
    } else {
        std::fs::remove_file(dir).expect("remove the file");
        std::fs::create_dir(dir).expect("the folder again");
    }
}

/// Poll the task in the store until `done(row)`.
async fn wait_row(
    t: &TestServer,
    id: &str,
    secs: u64,
    what: &str,
    done: impl Fn(&samvideo_http::store::TaskRow) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let row = t.server.state().store.task(id).await.expect("store").expect("row");
        if done(&row) {
            return;
        }
        assert!(Instant::now() < deadline, "task {id} still not {what} after {secs} s: {row:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_fails_for_a_moment_is_tried_again_under_the_lease() {
    let media = Media::card(320, 180).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let config = relaxed(tmp.path()).with_upload_retries(vec![Duration::from_secs(1); 3]);
    let t = TestServer::start(config).await;
    let key = t.key("k", BillingPlan::Pro);
    let outputs = tmp.path().join("outputs");
    break_folder(&outputs, true);
    let id = t.submit(&key, &image_video(&media.url("card.png"), 1.0)).await;
    // Rendered (progress 1) but not stored: the put is failing now.
    wait_row(&t, &id, 300, "rendered", |r| r.progress >= 1.0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let row = t.server.state().store.task(&id).await.expect("store").expect("row");
    assert_eq!(row.status.as_str(), "processing", "still its worker's while it tries: {row:?}");
    break_folder(&outputs, false);
    let d = t.wait_terminal(&key, &id, 30).await;
    assert_eq!(d["status"], "completed", "{d}");
    let row = t.server.state().store.task(&id).await.expect("store").expect("row");
    assert_eq!(row.attempts, 1, "stored by a retry of the first attempt");
    assert!(outputs.join(format!("{id}.mp4")).exists());
    assert_eq!(std::fs::read_dir(tmp.path().join("tmp")).expect("tmp").count(), 0, "no scratch left");
    t.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_that_keeps_failing_gives_the_task_back_then_fails_it_with_the_reason() {
    let media = Media::card(320, 180).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let config = relaxed(tmp.path()).with_upload_retries(vec![Duration::from_millis(200); 2]);
    let t = TestServer::start(config).await;
    let key = t.key("k", BillingPlan::Pro);
    let outputs = tmp.path().join("outputs");
    break_folder(&outputs, true);

    // Given back after its tries, then rendered again by a later claim once the folder is back.
    let id = t.submit(&key, &image_video(&media.url("card.png"), 1.0)).await;
    wait_row(&t, &id, 300, "given back", |r| r.status.as_str() == "pending" && r.attempts == 1).await;
    let (_, p) = t.get(&key, &format!("{CORE}/progress/{id}")).await;
    let reason = p["data"]["error"].as_str().expect("the reason is kept").to_string();
    assert!(reason.starts_with("cannot store the output (attempt 1 of 2, queued again): "), "{reason}");
    assert_eq!(p["data"]["status"], "pending", "{p}");
    break_folder(&outputs, false);
    let d = t.wait_terminal(&key, &id, 300).await;
    assert_eq!(d["status"], "completed", "{d}");
    assert!(d["error"].is_null(), "{d}");
    assert!(d["output_url"].as_str().is_some_and(|u| u.ends_with(&format!("{id}-2.mp4"))), "attempt 2's name: {d}");
    assert!(!outputs.join(format!("{id}.mp4")).exists(), "nothing of attempt 1 is visible");

    // Never stored: failed once its attempts are used, with the reason.
    break_folder(&outputs, true);
    let id = t.submit(&key, &image_video(&media.url("card.png"), 1.0)).await;
    let d = t.wait_terminal(&key, &id, 300).await;
    assert_eq!(d["status"], "failed", "{d}");
    let error = d["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("cannot store the output (attempt 2 of 2): "), "{error}");
    let row = t.server.state().store.task(&id).await.expect("store").expect("row");
    assert_eq!(row.attempts, 2);
    assert_eq!(std::fs::read_dir(tmp.path().join("tmp")).expect("tmp").count(), 0, "no scratch left");
    break_folder(&outputs, false);
    t.server.stop().await;
}
