-- Ed25519 keys beside the RSA keypair (FEP-521a Multikeys, RFC 9421).
-- A remote actor's first Ed25519 `assertionMethod` key: its id and its
-- `publicKeyMultibase`. A local actor's key: public multibase and private
-- PKCS#8 (base64), made with the RSA pair; its id is `<actor>#ed25519-key`.
ALTER TABLE users ADD COLUMN ed25519_key_id TEXT;
ALTER TABLE users ADD COLUMN ed25519_public_key TEXT;
ALTER TABLE users ADD COLUMN ed25519_private_key TEXT;
