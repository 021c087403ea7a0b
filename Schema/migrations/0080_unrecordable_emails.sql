-- 0080_unrecordable_emails: a verified email that SMTA cannot record no longer refuses its user.
--
-- The adapters' core.link_identity refuses an email outside SMTA's address pattern (22023),
-- and core.set_caller calls it on every request: a user whose issuer or Payload app holds
-- "o'brien@example.com" or "jörg@example.de" was answered 400 on every call. core.set_caller
-- now passes such an email on as absent: the user is served, the email is not recorded (the
-- last recordable one stays), and email-bound invitations, which use the same pattern, cannot
-- name it anyway. core.link_identity itself keeps refusing malformed emails from direct calls.

-- core.recordable_email: p_email trimmed when SMTA records it (the pattern core.link_identity
-- and invitations accept), else null. Immutable; callable by everyone (it reads nothing).
create or replace function core.recordable_email(p_email text)
returns text
language sql
immutable
set search_path = ''
as $$
    select v.email
    from (select nullif(pg_catalog.btrim(p_email), '') as email) as v
    where v.email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$'
$$;

comment on function core.recordable_email(text) is
    'SMTA: the email trimmed when SMTA records it (identity links, users_meta), else null';

-- core.set_caller: as in 0070, with the link's email passed through core.recordable_email.
create or replace function core.set_caller(
    p_role text,
    p_user_id uuid,
    p_claims text,
    p_secrets_key text,
    p_link_provider text,
    p_link_subject text,
    p_link_email text,
    p_allow_anonymous_users boolean
)
returns void
language plpgsql
volatile
as $$
declare
    v_user_id text := p_user_id::text;
begin
    if p_role is null or p_role not in ('anon', 'authenticated', 'service_role') then
        raise exception 'The caller''s role must be anon, authenticated or service_role'
            using errcode = '22023';
    end if;
    if p_link_subject is not null then
        -- Through EXECUTE, so that this function loads before any adapter defines the hook.
        execute 'select core.link_identity($1, $2, core.recordable_email($3))::text'
            into v_user_id
            using p_link_provider, p_link_subject, p_link_email;
    end if;
    perform pg_catalog.set_config('app.current_user_id', coalesce(v_user_id, ''), true),
            pg_catalog.set_config('request.jwt.claims', coalesce(p_claims, ''), true),
            pg_catalog.set_config('app.secrets_key', coalesce(p_secrets_key, ''), true),
            pg_catalog.set_config('app.allow_anonymous_users',
                case when p_allow_anonymous_users then 'on' else '' end, true),
            pg_catalog.set_config('role', p_role, true);
end
$$;
