//! `magpie operator`: the people who sign in to the web console
//! (`/console` on the admin listener), kept in the server's store.

use crate::app::StoreArgs;
use clap::{Args, Subcommand};
use std::io::{BufRead, IsTerminal};

pub const AFTER_HELP: &str = "\
The password is read from the terminal (twice), or as the first line of
standard input when it is not a terminal. It is stored as an argon2id hash.
The store is found as `magpie serve` finds it (--config, --data-dir, --store).

Examples:
  magpie operator create admin                       # asks for the password
  printf '%s\\n' \"$PASSWORD\" | magpie operator create admin
  magpie operator password admin                     # a new password
Then sign in at http://127.0.0.1:9380/console/ (the admin listener).";

/// `magpie operator ...`.
#[derive(Args)]
pub struct OperatorArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[command(subcommand)]
    command: OperatorCommand,
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Create an operator of the web console.
    #[command(after_help = "Example: magpie operator create admin")]
    Create {
        /// Sign-in name (1 to 64 characters).
        name: String,
    },
    /// Give an operator a new password.
    #[command(after_help = "Example: magpie operator password admin")]
    Password {
        /// Sign-in name.
        name: String,
    },
}

/// A password from the terminal (asked twice) or the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    let pw = if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password("password: ")?;
        let b = rpassword::prompt_password("again: ")?;
        if a != b {
            anyhow::bail!("the two passwords differ: run the command again");
        }
        a
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if pw.chars().count() < 8 {
        anyhow::bail!("the password must have at least 8 characters");
    }
    Ok(pw)
}

pub async fn run(a: OperatorArgs) -> anyhow::Result<u8> {
    let (_, url) = a.store.resolve()?;
    let stores = url.open(false)?;
    match a.command {
        OperatorCommand::Create { name } => {
            if name.is_empty() || name.chars().count() > 64 {
                anyhow::bail!("the operator name must be 1 to 64 characters");
            }
            if stores.operators.operator(&name).await?.is_some() {
                anyhow::bail!(
                    "an operator named {name:?} exists: `magpie operator password {name}` sets a new password"
                );
            }
            let hash = magpie_server::console::hash_password(&read_password()?)
                .map_err(anyhow::Error::msg)?;
            stores.operators.create_operator(&name, &hash).await?;
            println!("{}", serde_json::json!({"operator": name, "created": true}));
        }
        OperatorCommand::Password { name } => {
            if stores.operators.operator(&name).await?.is_none() {
                anyhow::bail!(
                    "no operator named {name:?}: `magpie operator create {name}` creates one"
                );
            }
            let hash = magpie_server::console::hash_password(&read_password()?)
                .map_err(anyhow::Error::msg)?;
            stores.operators.set_operator_password(&name, &hash).await?;
            println!(
                "{}",
                serde_json::json!({"operator": name, "password_changed": true})
            );
        }
    }
    Ok(crate::exit::OK)
}
