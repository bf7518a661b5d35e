//! What the controller's event-driven tests share: a controller driven by events as the
//! server drives it, keeping what it persists (records and the decision log) for replays.

#![allow(dead_code, unreachable_pub)]

use cpn_ctl::{Action, Call, Controller, Event, LogEntry, Record, Reply, token_hash};
use cpn_units::Nanos;

pub struct Harness {
    pub ctl: Controller,
    pub log: Vec<LogEntry>,
    pub records: Vec<Record>,
    next_req: u64,
}

impl Harness {
    /// Drives `ctl`, with an admin token whose secret is `admin_secret`.
    pub fn with_admin(mut ctl: Controller, admin_secret: &str) -> Harness {
        let admin = ctl.admin_token("t0", &token_hash(admin_secret));
        Harness {
            ctl,
            log: Vec::new(),
            records: vec![admin],
            next_req: 1,
        }
    }

    /// Handles `event`, keeping what it persists; returns every action.
    pub fn event(&mut self, now: Nanos, event: Event) -> Vec<Action> {
        let mut out = Vec::new();
        self.ctl.handle(now, event, &mut out);
        for a in &out {
            if let Action::Persist(r) = a {
                match r {
                    Record::Log(e) => self.log.push((**e).clone()),
                    other => self.records.push(other.clone()),
                }
            }
        }
        out
    }

    /// An API call with the token of `secret`, and its reply.
    pub fn call(&mut self, now: Nanos, secret: &str, call: Call) -> Reply {
        let req = self.next_req;
        self.next_req += 1;
        let token = token_hash(secret);
        self.event(now, Event::Api { req, token, call })
            .into_iter()
            .find_map(|a| match a {
                Action::Respond { req: r, reply } if r == req => Some(reply),
                _ => None,
            })
            .expect("a reply")
    }

    /// An API call that must succeed, with its JSON body.
    pub fn ok(&mut self, now: Nanos, secret: &str, call: Call) -> serde_json::Value {
        match self.call(now, secret, call) {
            Reply::Ok { body, .. } => serde_json::from_slice(&body).expect("json"),
            Reply::File { .. } => panic!("a file, not JSON"),
            Reply::Err(e) => panic!("refused: {e}"),
        }
    }
}
