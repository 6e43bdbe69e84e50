-- Sessions for bench/server/rotation.pgbench, in a database whose schema jotd made
-- (`jotd migrate --store URI`): one user "pgbench", and for each pgbench client c in
-- 0 .. :clients - 1 a session 'pgb-<c>' holding the first token of its chain,
-- sha256(int8send(c * 1e9)). psql -v clients=N -v now=EPOCH -f rotation-setup.sql
\set ON_ERROR_STOP on
INSERT INTO users (username, password_hash, roles, permissions, created_at, updated_at)
VALUES ('pgbench', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        '[]', '[]', :now, :now);
INSERT INTO sessions (sid, user_id, client_id, scope, created_at, expires_at, last_used_at)
SELECT 'pgb-' || c, (SELECT id FROM users WHERE username = 'pgbench'), 'default', '',
       :now, :now + 86400, :now
FROM generate_series(0, :clients - 1) AS c;
INSERT INTO refresh_tokens (hash, sid, created_at, expires_at)
SELECT sha256(int8send(c * 1000000000::bigint)), 'pgb-' || c, :now, :now + 1209600
FROM generate_series(0, :clients - 1) AS c;
ANALYZE;
