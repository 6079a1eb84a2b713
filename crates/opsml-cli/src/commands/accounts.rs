//! `opsml server users …` and `opsml server grants …`: the accounts of a server, changed in
//! its database directly, as `opsml server start` opens it. Nothing goes through a server:
//! these commands work with every server down, and when no admin can log in any more (a
//! locked-out or deleted admin), which the HTTP routes could not help with. Whoever runs them
//! already holds the database, which is more than any admin may do. Servers on the database
//! notice a change within the time they trust a token they looked up (10 seconds).

use std::sync::Arc;

use opsml_registry::{AccountStore, TrackingUri, UserChange};

use crate::args::{DeleteUserArgs, GrantArgs, GrantsCommand, UsersCommand};
use crate::context::Context;
use crate::error::{CliError, Result};
use crate::format::{iso_time, local_time};
use crate::table::{Align, Table};

pub(super) fn users(context: &mut Context<'_, '_>, command: UsersCommand) -> Result<()> {
    let accounts = open(context)?;
    let accounts = accounts.as_ref();
    match command {
        UsersCommand::List => list(context, accounts),
        UsersCommand::Disable(args) => {
            changed(accounts.set_disabled(&args.username, true)?, &args.username)?;
            let name = &args.username;
            writeln!(context.out, "disabled user {name:?} and revoked its tokens")?;
            Ok(())
        }
        UsersCommand::Enable(args) => {
            changed(
                accounts.set_disabled(&args.username, false)?,
                &args.username,
            )?;
            writeln!(context.out, "enabled user {:?}", args.username)?;
            Ok(())
        }
        UsersCommand::Delete(args) => delete(context, accounts, &args),
        UsersCommand::RevokeTokens(args) => {
            let name = &args.username;
            require_user(accounts, name)?;
            let revoked = accounts.revoke_tokens(name)?;
            writeln!(context.out, "revoked {revoked} token(s) of user {name:?}")?;
            Ok(())
        }
    }
}

pub(super) fn grants(context: &mut Context<'_, '_>, command: GrantsCommand) -> Result<()> {
    let accounts = open(context)?;
    match command {
        GrantsCommand::Remove(args) => remove_grant(context, accounts.as_ref(), &args),
    }
}

/// The accounts of the database of `--tracking-uri` or `OPSML_TRACKING_URI`. A SQLite file
/// must exist: a user of a server that was never started cannot be managed.
fn open(context: &Context<'_, '_>) -> Result<Arc<dyn AccountStore>> {
    let uri = context.tracking_uri()?;
    if let TrackingUri::Sqlite(path) = &uri {
        if !path.is_file() {
            return Err(CliError::NoStore(path.clone()));
        }
    }
    Ok(opsml_registry::open_account_store(&uri)?)
}

fn no_such_user(username: &str) -> CliError {
    CliError::Server(format!("no user named {username:?}"))
}

fn require_user(accounts: &dyn AccountStore, username: &str) -> Result<()> {
    match accounts.user(username)? {
        Some(_) => Ok(()),
        None => Err(no_such_user(username)),
    }
}

/// `Ok` when a user was changed; the error says why it was not.
fn changed(change: UserChange, username: &str) -> Result<()> {
    match change {
        UserChange::Done => Ok(()),
        UserChange::NoSuchUser => Err(no_such_user(username)),
        UserChange::LastAdmin => Err(CliError::Server(format!(
            "user {username:?} is the last enabled admin; make another user an admin first"
        ))),
    }
}

/// The users: local times and yes/no for a person, ISO-8601 UTC and true/false for a
/// program.
fn list(context: &mut Context<'_, '_>, accounts: &dyn AccountStore) -> Result<()> {
    let terminal = context.terminal();
    let flag = |value: bool| {
        match (terminal, value) {
            (true, true) => "yes",
            (true, false) => "no",
            (false, value) => {
                if value {
                    "true"
                } else {
                    "false"
                }
            }
        }
        .to_owned()
    };
    let mut table = Table::new(&[
        ("username", Align::Left),
        ("admin", Align::Left),
        ("disabled", Align::Left),
        ("created", Align::Left),
    ]);
    for user in accounts.users()? {
        table.push(vec![
            user.username,
            flag(user.admin),
            flag(user.disabled),
            if terminal {
                local_time(user.created_at)
            } else {
                iso_time(user.created_at)
            },
        ]);
    }
    table.write(context.out, terminal)?;
    Ok(())
}

fn delete(
    context: &mut Context<'_, '_>,
    accounts: &dyn AccountStore,
    args: &DeleteUserArgs,
) -> Result<()> {
    let name = &args.username;
    require_user(accounts, name)?;
    if !args.yes {
        context.confirm_deletion(&format!(
            "Delete user {name:?} with its grants and tokens? [y/N] "
        ))?;
    }
    changed(accounts.delete_user(name)?, name)?;
    writeln!(context.out, "deleted user {name:?}")?;
    Ok(())
}

fn remove_grant(
    context: &mut Context<'_, '_>,
    accounts: &dyn AccountStore,
    args: &GrantArgs,
) -> Result<()> {
    let (name, space) = (&args.username, &args.space);
    require_user(accounts, name)?;
    if !accounts.revoke_grant(name, space)? {
        return Err(CliError::Server(format!(
            "user {name:?} has no grant on space {space:?}"
        )));
    }
    writeln!(
        context.out,
        "removed the grant of user {name:?} on space {space:?}"
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::Utc;
    use opsml_registry::{Access, SqliteStore, UserRecord};

    use crate::Console;

    use super::*;

    /// A store with an admin and `ana`, who writes `team` and holds a token `t`.
    fn store(dir: &Path) -> SqliteStore {
        let store = SqliteStore::open(&dir.join("opsml.db")).unwrap();
        for (name, admin) in [("root", true), ("ana", false)] {
            store
                .insert_user(&UserRecord {
                    username: name.to_owned(),
                    password_hash: "not a real hash".to_owned(),
                    admin,
                    disabled: false,
                })
                .unwrap();
        }
        store.grant("ana", "team", Access::Write).unwrap();
        store
            .put_token("t", "ana", Utc::now() + chrono::Duration::hours(1))
            .unwrap();
        store
    }

    /// `opsml --tracking-uri <dir's store> server ARGS`: exit code, output and error.
    fn opsml(dir: &Path, args: &[&str], console: Console<'_>) -> (i32, String, String) {
        let uri = format!("sqlite:///{}", dir.join("opsml.db").display());
        let mut command = vec!["opsml", "--tracking-uri", &uri, "server"];
        command.extend_from_slice(args);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = crate::run_with(command, &mut out, &mut err, console);
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
        (code, text(out), text(err))
    }

    fn plain(dir: &Path, args: &[&str]) -> (i32, String, String) {
        opsml(dir, args, Console::plain())
    }

    #[test]
    fn users_are_listed_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path());
        let (code, out, err) = plain(dir.path(), &["users", "list"]);
        assert_eq!((code, err.as_str()), (0, ""));
        let rows: Vec<Vec<&str>> = out.lines().map(|l| l.split('\t').collect()).collect();
        assert_eq!(rows[0], ["username", "admin", "disabled", "created"]);
        assert_eq!(rows[1][..3], ["ana", "false", "false"]);
        assert_eq!(rows[2][..3], ["root", "true", "false"]);
        assert!(!out.contains("hash"), "{out}");
    }

    #[test]
    fn a_user_is_disabled_enabled_and_its_tokens_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let (code, out, _) = plain(dir.path(), &["users", "disable", "ana"]);
        assert_eq!(code, 0);
        assert_eq!(out, "disabled user \"ana\" and revoked its tokens\n");
        assert!(store.user("ana").unwrap().unwrap().disabled);
        assert!(store.token("t").unwrap().is_none());

        assert_eq!(plain(dir.path(), &["users", "enable", "ana"]).0, 0);
        assert!(!store.user("ana").unwrap().unwrap().disabled);
        store
            .put_token("u", "ana", Utc::now() + chrono::Duration::hours(1))
            .unwrap();
        let (code, out, _) = plain(dir.path(), &["users", "revoke-tokens", "ana"]);
        assert_eq!(code, 0);
        assert_eq!(out, "revoked 1 token(s) of user \"ana\"\n");
        assert!(store.token("u").unwrap().is_none());

        let (code, _, err) = plain(dir.path(), &["users", "disable", "root"]);
        assert_eq!(code, 1);
        assert!(err.contains("\"root\" is the last enabled admin"), "{err}");
        let (code, _, err) = plain(dir.path(), &["users", "enable", "bob"]);
        assert_eq!(code, 1);
        assert_eq!(err, "opsml: server: no user named \"bob\"\n");
    }

    #[test]
    fn deleting_a_user_asks_first_and_removing_a_grant_names_a_missing_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path());
        let (code, _, err) = plain(dir.path(), &["users", "delete", "ana"]);
        assert_eq!(code, 2, "{err}");
        let answering = |answer: &'static str| Console {
            stdout_is_terminal: false,
            stderr_is_terminal: false,
            input: Some(Box::new(std::io::Cursor::new(answer))),
        };
        let (code, _, err) = opsml(dir.path(), &["users", "delete", "ana"], answering("n\n"));
        assert_eq!(code, 1);
        assert!(err.ends_with("opsml: not deleted\n"), "{err}");
        assert!(store.user("ana").unwrap().is_some());

        let (code, out, _) = plain(dir.path(), &["grants", "remove", "ana", "team"]);
        assert_eq!(
            (code, out.as_str()),
            (0, "removed the grant of user \"ana\" on space \"team\"\n")
        );
        assert!(store.grants("ana").unwrap().is_empty());
        let (code, _, err) = plain(dir.path(), &["grants", "remove", "ana", "team"]);
        assert_eq!(code, 1);
        assert!(
            err.contains("user \"ana\" has no grant on space \"team\""),
            "{err}"
        );

        let (code, out, _) = opsml(dir.path(), &["users", "rm", "ana"], answering("y\n"));
        assert_eq!((code, out.as_str()), (0, "deleted user \"ana\"\n"));
        assert!(store.user("ana").unwrap().is_none());
        let (code, _, err) = plain(dir.path(), &["users", "delete", "ana", "--yes"]);
        assert_eq!(code, 1);
        assert!(err.contains("no user named \"ana\""), "{err}");
    }

    #[test]
    fn a_store_that_does_not_exist_is_not_created_nor_a_server_uri_taken() {
        let dir = tempfile::tempdir().unwrap();
        let (code, _, err) = plain(dir.path(), &["users", "list"]);
        assert_eq!(code, 1);
        assert!(err.contains("no opsml store at"), "{err}");
        assert!(!dir.path().join("opsml.db").exists());

        let argv = [
            "opsml",
            "--tracking-uri",
            "http://127.0.0.1:9",
            "server",
            "users",
            "list",
        ];
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = crate::run_with(argv, &mut out, &mut err, Console::plain());
        let err = String::from_utf8(err).unwrap();
        assert_eq!(code, 1);
        assert!(err.contains("sqlite:// or postgres://"), "{err}");
    }
}
