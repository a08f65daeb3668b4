//! The fake server's state in SQLite: users, clients, sessions, consents,
//! authorization codes, refresh tokens and revocations. On disk it runs in
//! WAL mode with `synchronous=FULL`, so whatever a response acknowledged
//! survives a `kill -9`; its files are the owner's only (0600). Every
//! collection is bounded: users and clients by a cap, sessions by a cap and a
//! lifetime, the rest by their expiry ([`Store::purge`]).

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::config::{Client, User};
use crate::error::{Error, Result};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, claims TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, username TEXT NOT NULL, auth_time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS consents (username TEXT NOT NULL, client_id TEXT NOT NULL, scope TEXT NOT NULL,
  PRIMARY KEY (username, client_id));
CREATE TABLE IF NOT EXISTS codes (code TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
  username TEXT NOT NULL, scope TEXT NOT NULL, nonce TEXT, code_challenge TEXT, code_challenge_method TEXT,
  auth_time INTEGER NOT NULL, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0,
  redirect_uri_given INTEGER NOT NULL DEFAULT 1, tenant TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS refresh_tokens (token TEXT PRIMARY KEY, client_id TEXT NOT NULL, username TEXT NOT NULL,
  scope TEXT NOT NULL, auth_time INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
  tenant TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS revoked_tokens (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS code_descendants (code TEXT NOT NULL, jti TEXT, refresh_token TEXT,
  expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS code_descendants_code ON code_descendants (code);
CREATE INDEX IF NOT EXISTS code_descendants_refresh ON code_descendants (refresh_token);
CREATE INDEX IF NOT EXISTS sessions_auth_time ON sessions (auth_time);
";

/// The most users kept: anyone may sign up by signing in.
pub const MAX_USERS: usize = 10_000;
/// The most client registrations kept: anyone may register one (RFC 7591).
pub const MAX_CLIENTS: usize = super::MAX_CLIENTS;
/// The most sign-in sessions kept; past it, the oldest ends.
pub const MAX_SESSIONS: usize = 10_000;
/// The statement cache's size: above the number of distinct statements this file
/// prepares (32 today), so none is evicted and parsed again.
const STATEMENTS: usize = 48;
/// How long a used or expired authorization code is remembered, so that a
/// replay can still revoke what it gave (RFC 6749 4.1.2).
const USED_CODE_MEMORY: i64 = 600;

/// An authorization code and what it is bound to (RFC 6749 4.1.2, RFC 7636 4.4).
#[derive(Debug, Clone)]
pub struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub username: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub auth_time: i64,
    pub expires_at: i64,
    /// The authorization request named `redirect_uri`, so the token request
    /// must too (RFC 6749 4.1.3).
    pub redirect_uri_given: bool,
    /// The tenant whose authorization endpoint issued it; empty for the root.
    /// Only that issuer's token endpoint redeems it.
    pub tenant: String,
}

#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub client_id: String,
    pub username: String,
    pub scope: String,
    pub auth_time: i64,
    pub expires_at: i64,
    pub revoked: bool,
    /// The tenant that issued it; empty for the root.
    pub tenant: String,
}

/// What redeeming a code found.
pub enum Redeemed {
    Fresh(Box<Code>),
    AlreadyUsed,
    Unknown,
}

pub struct Store {
    db: Mutex<Connection>,
}

fn db_error(e: rusqlite::Error) -> Error {
    Error::server(format!("database error: {e}"))
}

impl Store {
    /// `None`: in memory, nothing written to disk.
    pub fn open(path: Option<&Path>) -> Result<Store> {
        let db = match path {
            Some(path) => {
                create_private(path)?;
                let db = Connection::open(path).map_err(|e| {
                    Error::server(format!("cannot open database {}: {e}", path.display()))
                })?;
                db.pragma_update(None, "journal_mode", "WAL")
                    .map_err(db_error)?;
                db.pragma_update(None, "synchronous", "FULL")
                    .map_err(db_error)?;
                db.busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(db_error)?;
                db
            }
            None => Connection::open_in_memory().map_err(db_error)?,
        };
        db.execute_batch(SCHEMA).map_err(db_error)?;
        migrate(&db).map_err(db_error)?;
        // The statements below are prepared once and kept (`prepare_cached`):
        // SQLite's parser and planner cost more than running these one-row
        // statements, and a token request runs one or two of them.
        db.set_prepared_statement_cache_capacity(STATEMENTS);
        if let Some(path) = path {
            // The schema's writes made the WAL and shared-memory files.
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.as_os_str().to_owned();
                file.push(suffix);
                restrict(Path::new(&file))?;
            }
        }
        Ok(Store { db: Mutex::new(db) })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        f(&db).map_err(db_error)
    }

    // Users

    pub fn upsert_user(&self, user: &User) -> Result<()> {
        let claims = Value::Object(user.claims.clone()).to_string();
        self.with_room("users", MAX_USERS, &user.username, |db| {
            db.prepare_cached(
                "INSERT INTO users (username, claims) VALUES (?1, ?2)
                 ON CONFLICT(username) DO UPDATE SET claims = excluded.claims",
            )?
            .execute(params![user.username, claims])
        })?;
        Ok(())
    }

    /// Create the user if new; keep their claims if they exist.
    pub fn ensure_user(&self, username: &str) -> Result<User> {
        self.with_room("users", MAX_USERS, username, |db| {
            db.prepare_cached("INSERT OR IGNORE INTO users (username) VALUES (?1)")?
                .execute(params![username])
        })?;
        self.user(username)?
            .ok_or_else(|| Error::server("user vanished"))
    }

    /// Run `insert` unless it would add a row to a full `table` (`users` or
    /// `clients`, keyed by `key`): then a clear error, and nothing written.
    fn with_room(
        &self,
        table: &'static str,
        cap: usize,
        key: &str,
        insert: impl FnOnce(&Connection) -> rusqlite::Result<usize>,
    ) -> Result<()> {
        let column = if table == "users" {
            "username"
        } else {
            "client_id"
        };
        let db = self.db.lock().unwrap_or_else(|p| p.into_inner());
        let exists: bool = db
            .query_row(
                &format!("SELECT 1 FROM {table} WHERE {column} = ?1"),
                params![key],
                |_| Ok(()),
            )
            .optional()
            .map_err(db_error)?
            .is_some();
        if !exists {
            let count: i64 = db
                .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .map_err(db_error)?;
            if count as usize >= cap {
                return Err(Error::invalid_argument(format!(
                    "the fake server keeps at most {cap} {table}, and has them; delete some through the admin API"
                )));
            }
        }
        insert(&db).map_err(db_error)?;
        Ok(())
    }

    pub fn user(&self, username: &str) -> Result<Option<User>> {
        let claims: Option<String> = self.with(|db| {
            db.prepare_cached("SELECT claims FROM users WHERE username = ?1")?
                .query_row(params![username], |r| r.get(0))
                .optional()
        })?;
        Ok(claims.map(|c| User {
            username: username.to_string(),
            claims: parse_map(&c),
        }))
    }

    pub fn users(&self) -> Result<Vec<User>> {
        self.with(|db| {
            let mut stmt =
                db.prepare_cached("SELECT username, claims FROM users ORDER BY username")?;
            let rows = stmt.query_map([], |r| {
                Ok(User {
                    username: r.get(0)?,
                    claims: parse_map(&r.get::<_, String>(1)?),
                })
            })?;
            rows.collect()
        })
    }

    pub fn delete_user(&self, username: &str) -> Result<bool> {
        self.with(|db| {
            db.prepare_cached("DELETE FROM users WHERE username = ?1")?
                .execute(params![username])
        })
        .map(|n| n > 0)
    }

    // Clients

    pub fn upsert_client(&self, client: &Client) -> Result<()> {
        let mut client = client.clone();
        client.normalize();
        let data = serde_json::to_string(&client).map_err(|e| Error::server(e.to_string()))?;
        self.with_room("clients", MAX_CLIENTS, &client.client_id, |db| {
            db.prepare_cached(
                "INSERT INTO clients (client_id, data) VALUES (?1, ?2)
                 ON CONFLICT(client_id) DO UPDATE SET data = excluded.data",
            )?
            .execute(params![client.client_id, data])
        })?;
        Ok(())
    }

    pub fn client(&self, client_id: &str) -> Result<Option<Client>> {
        let data: Option<String> = self.with(|db| {
            db.prepare_cached("SELECT data FROM clients WHERE client_id = ?1")?
                .query_row(params![client_id], |r| r.get(0))
                .optional()
        })?;
        Ok(data.and_then(|d| parse_client(&d)))
    }

    pub fn clients(&self) -> Result<Vec<Client>> {
        let rows: Vec<String> = self.with(|db| {
            let mut stmt = db.prepare_cached("SELECT data FROM clients ORDER BY client_id")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect()
        })?;
        Ok(rows.iter().filter_map(|d| parse_client(d)).collect())
    }

    pub fn delete_client(&self, client_id: &str) -> Result<bool> {
        self.with(|db| {
            db.prepare_cached("DELETE FROM clients WHERE client_id = ?1")?
                .execute(params![client_id])
        })
        .map(|n| n > 0)
    }

    // Login sessions and consents

    /// A new sign-in; at [`MAX_SESSIONS`], the oldest ones end to make room.
    pub fn create_session(&self, id: &str, username: &str, auth_time: i64) -> Result<()> {
        self.with(|db| {
            let count: i64 = db.prepare_cached("SELECT COUNT(*) FROM sessions")?.query_row([], |r| r.get(0))?;
            let excess = count + 1 - MAX_SESSIONS as i64;
            if excess > 0 {
                db.prepare_cached("DELETE FROM sessions WHERE id IN (SELECT id FROM sessions ORDER BY auth_time LIMIT ?1)")?.execute(params![excess],
                )?;
            }
            db.prepare_cached("INSERT INTO sessions (id, username, auth_time) VALUES (?1, ?2, ?3)")?.execute(params![id, username, auth_time],
            )
        })?;
        Ok(())
    }

    /// (username, auth_time) of a login session begun after `since`; an
    /// older one has expired.
    pub fn session(&self, id: &str, since: i64) -> Result<Option<(String, i64)>> {
        self.with(|db| {
            db.prepare_cached(
                "SELECT username, auth_time FROM sessions WHERE id = ?1 AND auth_time > ?2",
            )?
            .query_row(params![id, since], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
        })
    }

    pub fn delete_session(&self, id: &str) -> Result<()> {
        self.with(|db| {
            db.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
                .execute(params![id])
        })?;
        Ok(())
    }

    pub fn grant_consent(&self, username: &str, client_id: &str, scope: &str) -> Result<()> {
        self.with(|db| {
            db.prepare_cached(
                "INSERT INTO consents (username, client_id, scope) VALUES (?1, ?2, ?3)
                 ON CONFLICT(username, client_id) DO UPDATE SET scope = excluded.scope",
            )?
            .execute(params![username, client_id, scope])
        })?;
        Ok(())
    }

    /// Whether the user already consented to every scope in `scope`.
    pub fn has_consent(&self, username: &str, client_id: &str, scope: &str) -> Result<bool> {
        let granted: Option<String> = self.with(|db| {
            db.prepare_cached("SELECT scope FROM consents WHERE username = ?1 AND client_id = ?2")?
                .query_row(params![username, client_id], |r| r.get(0))
                .optional()
        })?;
        Ok(granted.is_some_and(|g| scope.split(' ').all(|s| g.split(' ').any(|x| x == s))))
    }

    // Authorization codes

    pub fn insert_code(&self, code: &str, c: &Code) -> Result<()> {
        self.with(|db| {
            db.prepare_cached("INSERT INTO codes (code, client_id, redirect_uri, username, scope, nonce, code_challenge,
                   code_challenge_method, auth_time, expires_at, redirect_uri_given, tenant)
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")?.execute(params![
                    code,
                    c.client_id,
                    c.redirect_uri,
                    c.username,
                    c.scope,
                    c.nonce,
                    c.code_challenge,
                    c.code_challenge_method,
                    c.auth_time,
                    c.expires_at,
                    c.redirect_uri_given,
                    c.tenant
                ],
            )
        })?;
        Ok(())
    }

    /// Mark a code used and return it; a code redeems once (RFC 6749 4.1.2).
    pub fn redeem_code(&self, code: &str) -> Result<Redeemed> {
        self.with(|db| {
            let row = db
                .query_row(
                    "UPDATE codes SET used = 1 WHERE code = ?1 AND used = 0 RETURNING client_id, redirect_uri,
                       username, scope, nonce, code_challenge, code_challenge_method, auth_time, expires_at,
                       redirect_uri_given, tenant",
                    params![code],
                    |r| {
                        Ok(Code {
                            client_id: r.get(0)?,
                            redirect_uri: r.get(1)?,
                            username: r.get(2)?,
                            scope: r.get(3)?,
                            nonce: r.get(4)?,
                            code_challenge: r.get(5)?,
                            code_challenge_method: r.get(6)?,
                            auth_time: r.get(7)?,
                            expires_at: r.get(8)?,
                            redirect_uri_given: r.get(9)?,
                            tenant: r.get(10)?,
                        })
                    },
                )
                .optional()?;
            if let Some(code) = row {
                return Ok(Redeemed::Fresh(Box::new(code)));
            }
            let exists: Option<i64> =
                db.prepare_cached("SELECT 1 FROM codes WHERE code = ?1")?.query_row(params![code], |r| r.get(0)).optional()?;
            Ok(if exists.is_some() { Redeemed::AlreadyUsed } else { Redeemed::Unknown })
        })
    }

    // Refresh tokens

    pub fn insert_refresh_token(&self, token: &str, t: &RefreshToken) -> Result<()> {
        self.with(|db| {
            db.prepare_cached("INSERT INTO refresh_tokens (token, client_id, username, scope, auth_time, expires_at, tenant)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(params![token, t.client_id, t.username, t.scope, t.auth_time, t.expires_at, t.tenant],
            )
        })?;
        Ok(())
    }

    pub fn refresh_token(&self, token: &str) -> Result<Option<RefreshToken>> {
        self.with(|db| {
            db.prepare_cached("SELECT client_id, username, scope, auth_time, expires_at, revoked, tenant FROM refresh_tokens WHERE token = ?1")?.query_row(params![token],
                |r| {
                    Ok(RefreshToken {
                        client_id: r.get(0)?,
                        username: r.get(1)?,
                        scope: r.get(2)?,
                        auth_time: r.get(3)?,
                        expires_at: r.get(4)?,
                        revoked: r.get::<_, i64>(5)? != 0,
                        tenant: r.get(6)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Revoke; returns false when it was already revoked or unknown (rotation
    /// uses this so that two concurrent refreshes cannot both succeed).
    pub fn revoke_refresh_token(&self, token: &str) -> Result<bool> {
        self.with(|db| {
            db.prepare_cached(
                "UPDATE refresh_tokens SET revoked = 1 WHERE token = ?1 AND revoked = 0",
            )?
            .execute(params![token])
        })
        .map(|n| n > 0)
    }

    // What each authorization code led to, so a replayed code can take it all
    // back (RFC 6749 4.1.2, 10.5).

    /// Remember that `code` led to this access token and refresh token.
    pub fn record_descendant(
        &self,
        code: &str,
        jti: &str,
        refresh_token: Option<&str>,
        expires_at: i64,
    ) -> Result<()> {
        self.with(|db| {
            db.prepare_cached("INSERT INTO code_descendants (code, jti, refresh_token, expires_at) VALUES (?1, ?2, ?3, ?4)")?.execute(params![code, jti, refresh_token, expires_at],
            )
        })?;
        Ok(())
    }

    /// The authorization code a refresh token descends from.
    pub fn code_of_refresh_token(&self, token: &str) -> Result<Option<String>> {
        self.with(|db| {
            db.prepare_cached("SELECT code FROM code_descendants WHERE refresh_token = ?1")?
                .query_row(params![token], |r| r.get(0))
                .optional()
        })
    }

    /// Revoke every token that descends from `code`; returns how many.
    pub fn revoke_descendants(&self, code: &str) -> Result<usize> {
        self.with(|db| {
            let revoked_refresh = db.prepare_cached("UPDATE refresh_tokens SET revoked = 1 WHERE revoked = 0 AND token IN
                   (SELECT refresh_token FROM code_descendants WHERE code = ?1)")?.execute(params![code],
            )?;
            let revoked_access = db.prepare_cached("INSERT OR IGNORE INTO revoked_tokens (jti, expires_at)
                   SELECT jti, expires_at FROM code_descendants WHERE code = ?1 AND jti IS NOT NULL")?.execute(params![code],
            )?;
            Ok(revoked_refresh + revoked_access)
        })
    }

    // Access token revocation (RFC 7009), by jti

    pub fn revoke_jti(&self, jti: &str, expires_at: i64) -> Result<()> {
        self.with(|db| {
            db.prepare_cached(
                "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?1, ?2)",
            )?
            .execute(params![jti, expires_at])
        })?;
        Ok(())
    }

    /// Forget what has expired: sessions older than `session_lifetime`,
    /// codes (a while after their expiry), refresh tokens, revocations and
    /// descent records. Returns how many rows went.
    pub fn purge(&self, now: i64, session_lifetime: u64) -> Result<usize> {
        let session_cutoff = now.saturating_sub(session_lifetime.min(i64::MAX as u64) as i64);
        self.with(|db| {
            Ok(db
                .prepare_cached("DELETE FROM sessions WHERE auth_time <= ?1")?
                .execute(params![session_cutoff])?
                + db.prepare_cached("DELETE FROM codes WHERE expires_at <= ?1")?
                    .execute(params![now - USED_CODE_MEMORY])?
                + db.prepare_cached("DELETE FROM refresh_tokens WHERE expires_at <= ?1")?
                    .execute(params![now])?
                + db.prepare_cached("DELETE FROM revoked_tokens WHERE expires_at <= ?1")?
                    .execute(params![now])?
                + db.prepare_cached("DELETE FROM code_descendants WHERE expires_at <= ?1")?
                    .execute(params![now])?)
        })
    }

    pub fn is_revoked(&self, jti: &str) -> Result<bool> {
        self.with(|db| {
            db.prepare_cached("SELECT 1 FROM revoked_tokens WHERE jti = ?1")?
                .query_row(params![jti], |_| Ok(()))
                .optional()
                .map(|r| r.is_some())
        })
    }
}

/// A stored client, normalized (rows written before normalization existed).
fn parse_client(data: &str) -> Option<Client> {
    let mut client: Client = serde_json::from_str(data).ok()?;
    client.normalize();
    Some(client)
}

/// Columns added since the first schema, for databases made before them.
fn migrate(db: &Connection) -> rusqlite::Result<()> {
    let has = |table: &str, column: &str| -> rusqlite::Result<bool> {
        let mut stmt = db.prepare(&format!("PRAGMA table_info({table})"))?;
        let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
        for name in names {
            if name? == column {
                return Ok(true);
            }
        }
        Ok(false)
    };
    if !has("codes", "redirect_uri_given")? {
        db.execute_batch(
            "ALTER TABLE codes ADD COLUMN redirect_uri_given INTEGER NOT NULL DEFAULT 1",
        )?;
    }
    for table in ["codes", "refresh_tokens"] {
        if !has(table, "tenant")? {
            db.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN tenant TEXT NOT NULL DEFAULT ''"
            ))?;
        }
    }
    Ok(())
}

/// Create the database file 0600 before SQLite does (which would use 0644
/// less the umask, and give the WAL files the same).
fn create_private(path: &Path) -> Result<()> {
    if path.exists() {
        return restrict(path);
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => restrict(path),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => restrict(path),
        Err(e) => Err(Error::io("create database", path, &e)),
    }
}

/// Only the owner reads or writes it, whatever the umask was.
fn restrict(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("restrict permissions of", path, &e)),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn parse_map(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(store: &Store, table: &str) -> i64 {
        store
            .with(|db| db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)))
            .unwrap()
    }

    /// What has expired leaves; what is live stays.
    #[test]
    fn purge_forgets_what_expired() {
        let store = Store::open(None).unwrap();
        let now = 1_000_000;
        store.create_session("old", "a", now - 13 * 3600).unwrap();
        store.create_session("new", "a", now - 60).unwrap();
        let code = |expires_at| Code {
            client_id: "c".into(),
            redirect_uri: "https://a.example/cb".into(),
            username: "a".into(),
            scope: "openid".into(),
            nonce: None,
            code_challenge: None,
            code_challenge_method: None,
            auth_time: now,
            expires_at,
            redirect_uri_given: true,
            tenant: String::new(),
        };
        store.insert_code("gone", &code(now - 3600)).unwrap();
        store.insert_code("recent", &code(now - 10)).unwrap();
        let refresh = |expires_at| RefreshToken {
            client_id: "c".into(),
            username: "a".into(),
            scope: "openid".into(),
            auth_time: now,
            expires_at,
            revoked: false,
            tenant: String::new(),
        };
        store
            .insert_refresh_token("r-old", &refresh(now - 1))
            .unwrap();
        store
            .insert_refresh_token("r-live", &refresh(now + 60))
            .unwrap();
        store.revoke_jti("j-old", now - 1).unwrap();
        store.revoke_jti("j-live", now + 60).unwrap();
        store
            .record_descendant("gone", "j-old", Some("r-old"), now - 1)
            .unwrap();
        store
            .record_descendant("recent", "j-live", Some("r-live"), now + 60)
            .unwrap();

        assert_eq!(store.purge(now, 12 * 3600).unwrap(), 5);
        assert!(store.session("old", 0).unwrap().is_none());
        assert!(store.session("new", 0).unwrap().is_some());
        assert_eq!(
            count(&store, "codes"),
            1,
            "a used code is remembered a while for replays"
        );
        assert!(store.refresh_token("r-old").unwrap().is_none());
        assert!(store.refresh_token("r-live").unwrap().is_some());
        assert!(!store.is_revoked("j-old").unwrap());
        assert!(store.is_revoked("j-live").unwrap());
        assert_eq!(count(&store, "code_descendants"), 1);
    }

    /// Every statement this file keeps fits in the cache (the count takes in
    /// this test's and the comments' mentions too: an upper bound).
    #[test]
    fn statement_cache_holds_every_statement() {
        let kept = include_str!("store.rs").matches("prepare_cached(").count();
        assert!(
            kept < STATEMENTS,
            "{kept} statements, room for {STATEMENTS}"
        );
    }

    /// A session older than the lifetime is no session, even before a purge.
    #[test]
    fn sessions_expire_and_are_capped() {
        let store = Store::open(None).unwrap();
        store.create_session("s", "a", 100).unwrap();
        assert!(store.session("s", 99).unwrap().is_some());
        assert!(store.session("s", 100).unwrap().is_none());
        for i in 0..MAX_SESSIONS + 5 {
            store
                .create_session(&format!("x{i}"), "a", 200 + i as i64)
                .unwrap();
        }
        assert_eq!(count(&store, "sessions") as usize, MAX_SESSIONS);
        assert!(store.session("s", 0).unwrap().is_none(), "the oldest ended");
        assert!(store
            .session(&format!("x{}", MAX_SESSIONS + 4), 0)
            .unwrap()
            .is_some());
    }
}
