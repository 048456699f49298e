//! Per-alert response plans (upstream v1.3+): `?awsim_other_response_plan=`
//! names an entry of `oncall.aws_incident_manager.other_response_plan_arns`
//! and that plan is started; an unknown name is a 400 naming the known
//! ones, with nothing sent, never a page on the default plan.

use std::time::Duration;

use crate::gateway::Process;
use crate::oncall_rig::{PLAN, Rig, Setup, payload, post, wait_for};

const DB_PLAN: &str = "arn:aws:ssm-incidents::111122223333:response-plan/database";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_plan_pages_and_an_unknown_name_is_refused() {
    let rig = Rig::new().await;
    let yaml = rig.yaml(&Setup::redis_port(6379)).replace(
        &format!("    response_plan_arn: {PLAN}\n"),
        &format!(
            "    response_plan_arn: {PLAN}\n    other_response_plan_arns:\n      database: {DB_PLAN}\n"
        ),
    );
    assert!(yaml.contains(DB_PLAN), "{yaml}");
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;

    let (status, answer) = post(
        &gw,
        "oncall_wait_minutes=0&awsim_other_response_plan=nope",
        payload("critical", "routing-unknown"),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    let error = answer.to_string();
    assert!(
        error.contains("`nope`") && error.contains("database"),
        "{error}"
    );

    let (status, answer) = post(
        &gw,
        "oncall_wait_minutes=0&awsim_other_response_plan=database",
        payload("critical", "routing-known"),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert!(
        wait_for(Duration::from_secs(15), || rig.ssm.calls().len() == 1).await,
        "no page:\n{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let calls = rig.ssm.calls();
    assert_eq!(calls.len(), 1, "the refused alert paged: {calls:?}");
    assert_eq!(calls[0].body["responsePlanArn"], DB_PLAN);
    // Only the accepted alert reached Slack.
    let posts = rig
        .slack
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("chat.postMessage"))
        .count();
    assert_eq!(posts, 1);
}
