//! `cpn token` and `cpn tenant`: API tokens and tenants, managed through a running controller
//! with an admin token, or (`cpn token create --data`) written straight into a stopped
//! controller's store to recover admin access.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use cpn_api::{Role, TenantCreate, TenantView, TokenCreate, TokenCreated, TokenView};

use crate::client::{Remote, print_json};
use crate::{Failure, Outcome};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum RoleArg {
    Admin,
    Tenant,
    Agent,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Admin => Role::Admin,
            RoleArg::Tenant => Role::Tenant,
            RoleArg::Agent => Role::Agent,
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum TokenCommand {
    /// Creates a token and prints its secret (shown once; the controller keeps its hash).
    Create {
        #[command(flatten)]
        remote: Remote,
        /// The tenant it acts for (`admin` for an admin token).
        #[arg(long)]
        tenant: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        #[arg(long, default_value = "")]
        label: String,
        /// Write an admin token straight into this stopped controller's data directory,
        /// instead of asking a running controller.
        #[arg(long, conflicts_with = "server")]
        data: Option<PathBuf>,
    },
    /// Lists tokens (never their secrets).
    List {
        #[command(flatten)]
        remote: Remote,
        #[arg(long)]
        json: bool,
    },
    /// Revokes a token by its id.
    Revoke {
        #[command(flatten)]
        remote: Remote,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum TenantCommand {
    /// Creates a tenant.
    Create {
        #[command(flatten)]
        remote: Remote,
        name: String,
    },
    /// Lists tenants.
    List {
        #[command(flatten)]
        remote: Remote,
    },
}

pub(crate) fn token(command: TokenCommand) -> Outcome {
    match command {
        TokenCommand::Create {
            remote,
            tenant,
            role,
            label,
            data: Some(data),
        } => {
            let _ = remote;
            if !matches!(role, RoleArg::Admin) || tenant != cpn_ctl::ADMIN_TENANT {
                return Err(Failure::bad(
                    "--data writes admin tokens only (--tenant admin --role admin); create others through the controller",
                ));
            }
            offline_admin(&data, &label)
        }
        TokenCommand::Create {
            remote,
            tenant,
            role,
            label,
            data: None,
        } => {
            let created: TokenCreated = remote.require()?.post(
                "/api/v1/tokens",
                &TokenCreate {
                    tenant,
                    role: role.into(),
                    label,
                },
            )?;
            println!("{}", created.token);
            eprintln!(
                "token {} for tenant {} ({}): keep the secret above, it is not shown again",
                created.id,
                created.tenant,
                created.role.as_str()
            );
            Ok(())
        }
        TokenCommand::List { remote, json } => {
            let list: Vec<TokenView> = remote.require()?.get("/api/v1/tokens")?;
            if json {
                return print_json(&list);
            }
            for t in list {
                println!(
                    "{:<24} {:<16} {:<7} {}",
                    t.id,
                    t.tenant,
                    t.role.as_str(),
                    t.label
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { remote, id } => {
            let _: serde_json::Value = remote.require()?.delete(&format!("/api/v1/tokens/{id}"))?;
            eprintln!("revoked {id}");
            Ok(())
        }
    }
}

fn offline_admin(data: &std::path::Path, label: &str) -> Outcome {
    let mut store = crate::serve_cmd::open_store(data, None)?;
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").map_err(|e| Failure::Internal(e.into()))?,
        &mut bytes,
    )
    .map_err(|e| Failure::Internal(e.into()))?;
    let secret = format!(
        "cpn_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let hash = cpn_ctl::token_hash(&secret);
    let record = cpn_ctl::Record::Token(cpn_ctl::TokenRecord {
        id: format!("tok-{}", &hash[..12]),
        hash,
        tenant: cpn_ctl::ADMIN_TENANT.into(),
        role: Role::Admin,
        label: if label.is_empty() {
            "offline".into()
        } else {
            label.to_string()
        },
    });
    store
        .acquire_leadership("cpn-token")
        .map_err(Failure::bad)?;
    let ops = cpn_server::ops_of(&[record]).map_err(Failure::bad)?;
    store.commit(&ops).map_err(Failure::bad)?;
    println!("{secret}");
    Ok(())
}

pub(crate) fn tenant(command: TenantCommand) -> Outcome {
    match command {
        TenantCommand::Create { remote, name } => {
            let t: TenantView = remote
                .require()?
                .post("/api/v1/tenants", &TenantCreate { name })?;
            eprintln!("created tenant {}", t.name);
            Ok(())
        }
        TenantCommand::List { remote } => {
            let list: Vec<TenantView> = remote.require()?.get("/api/v1/tenants")?;
            for t in list {
                println!("{}", t.name);
            }
            Ok(())
        }
    }
}
