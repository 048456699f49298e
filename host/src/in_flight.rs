//! Work in flight, for load shedding and graceful shutdown: the alert
//! endpoint admits requests through a [`Gate`] (at most
//! `ingest.max_concurrent_requests`), and shutdown waits for the gate to
//! drain, work that outlives its request included: deliveries, and what a
//! Slack click or an ACK link set going after its answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts work in flight: the alert endpoint's requests, and, apart from
/// them, work that goes on after its request was answered.
#[derive(Debug, Default)]
pub struct Gate {
    requests: AtomicUsize,
    background: AtomicUsize,
    idle: tokio::sync::Notify,
}

/// One piece of work in flight; dropping it frees its place.
pub struct Permit {
    gate: Arc<Gate>,
    background: bool,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let count = if self.background {
            &self.gate.background
        } else {
            &self.gate.requests
        };
        if count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.gate.idle.notify_waiters();
        }
    }
}

impl Gate {
    /// Admits a request unless `max` are already in flight.
    pub fn try_enter(self: &Arc<Self>, max: usize) -> Option<Permit> {
        self.requests
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit {
                gate: self.clone(),
                background: false,
            })
    }

    /// Counts work that outlives its request (a delivery, a click's
    /// acknowledgement, a message update). Shutdown waits for it; the
    /// request limit does not count it, so a chat service that hangs does
    /// not shed the alerts meant for the others.
    pub fn hold(self: &Arc<Self>) -> Permit {
        self.background.fetch_add(1, Ordering::AcqRel);
        Permit {
            gate: self.clone(),
            background: true,
        }
    }

    /// Runs `work` in its own task, held (see [`Self::hold`]) until it
    /// ends: for work a request sets going and answers before it is done.
    pub fn spawn<F>(self: &Arc<Self>, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let working = self.hold();
        tokio::spawn(async move {
            let output = work.await;
            drop(working);
            output
        })
    }

    /// Requests being processed now.
    pub fn in_flight(&self) -> usize {
        self.requests.load(Ordering::Acquire)
    }

    /// Work still running after its request was answered.
    pub fn background(&self) -> usize {
        self.background.load(Ordering::Acquire)
    }

    /// Waits until no request and no delivery is in flight.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight() == 0 && self.background() == 0 {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_admits_up_to_max_and_frees_on_drop() {
        let gate = Arc::new(Gate::default());
        let a = gate.try_enter(2).expect("first");
        let _b = gate.try_enter(2).expect("second");
        assert!(gate.try_enter(2).is_none());
        drop(a);
        assert_eq!(gate.in_flight(), 1);
        assert!(gate.try_enter(2).is_some());
    }

    #[tokio::test]
    async fn held_work_is_not_limited_but_shutdown_waits_for_it() {
        let gate = Arc::new(Gate::default());
        let request = gate.try_enter(1).expect("request");
        let late = gate.hold();
        assert_eq!((gate.in_flight(), gate.background()), (1, 1));
        drop(request);
        assert!(
            gate.try_enter(1).is_some(),
            "held work took a request's place"
        );
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.wait_idle().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(late);
        waiting.await.expect("idle");
    }

    #[tokio::test]
    async fn spawned_work_is_held_until_it_ends() {
        let gate = Arc::new(Gate::default());
        let (finish, finished) = tokio::sync::oneshot::channel::<()>();
        let task = gate.spawn(async move { finished.await.is_ok() });
        assert_eq!(gate.background(), 1);
        finish.send(()).expect("send");
        assert!(task.await.expect("task"));
        assert_eq!(gate.background(), 0);
    }
}
