//! argon2id password hashes in PHC string format. Hashing is CPU-heavy and
//! takes 19 MiB, so callers run these functions on the `hashing` pool, and
//! each thread reuses one working memory instead of allocating 19 MiB per
//! hash: freed blocks that large stay in whichever malloc arena the thread
//! used at the time, and threads change arenas under contention, so RSS
//! grew by 19 MiB per arena touched and never came back.

use argon2::password_hash::{Error, Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand_core::OsRng;
use std::cell::RefCell;

/// A hash of a password nobody has, verified against when a login names an
/// unknown user so that both failures take the same time.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0gM0Kc6Y2ZMFy7yQ2OMp3UOJnnkyHMIbTwU1JRGyCH8";

thread_local! {
    /// This thread's argon2 working memory, grown to the largest cost seen.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Hashes `password` with argon2id (default cost) and a random salt.
pub fn hash(password: &str) -> Result<String, Error> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_buf)?;
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        compute(&argon, &params, password, salt_bytes, out)
    })?;
    Ok(PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    }
    .to_string())
}

/// Checks `password` against a stored PHC hash; `None` checks against a
/// dummy hash and always fails.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    let ok = matches(password, stored.unwrap_or(DUMMY_HASH)).unwrap_or(false);
    ok && stored.is_some()
}

/// Recomputes the hash of `password` with the algorithm, cost and salt of
/// `phc` and compares the outputs in constant time.
fn matches(password: &str, phc: &str) -> Result<bool, Error> {
    let hash = PasswordHash::new(phc)?;
    let algorithm = Algorithm::try_from(hash.algorithm)?;
    let version = hash
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(&hash)?;
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return Ok(false);
    };
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buf)?;
    let argon = Argon2::new(algorithm, version, params.clone());
    let computed = Output::init_with(expected.len(), |out| {
        compute(&argon, &params, password, salt_bytes, out)
    })?;
    Ok(computed == expected)
}

/// Runs argon2 on this thread's reused working memory.
fn compute(
    argon: &Argon2,
    params: &Params,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), Error> {
    BLOCKS.with_borrow_mut(|blocks| {
        let needed = params.block_count();
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        argon
            .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut blocks[..needed])
            .map_err(Error::from)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hash_verifies_only_the_same_password() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse", Some(&h)));
        assert!(!verify("wrong horse", Some(&h)));
        assert!(!verify("correct horse", None));
    }

    #[test]
    fn hashes_agree_with_the_argon2_crate() {
        // Hashes stored before the reused memory still verify, and new
        // ones verify with the crate's own verifier.
        let salt = SaltString::generate(&mut OsRng);
        let old = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .unwrap()
            .to_string();
        assert!(verify("correct horse", Some(&old)));
        assert!(!verify("correct horsf", Some(&old)));
        let new = hash("correct horse").unwrap();
        let parsed = PasswordHash::new(&new).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &parsed)
            .is_ok());
    }

    #[test]
    fn dummy_hash_parses() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
