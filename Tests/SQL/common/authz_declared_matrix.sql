-- The declared authorization matrix: Tests/SQL/authz/matrix.json states, for every table of
-- core/platform/utils/app and every function anon, authenticated or service_role may execute,
-- which caller may do what on which target. This file builds the fixture (tests.world() plus a
-- removed member, an invitee, soft-deleted rows, invitations in every state, platform rows and
-- an application table), generates every case (object x op x variant x target x caller), runs
-- each as its caller through the identity helpers, judges it by the database state it left,
-- undoes it, and asserts one line per (object, op). Then: completeness (every table and
-- executable function has an entry; a new one without an entry fails here, by name), and
-- "unknown and foreign ids answer alike" for every function taking an id.
--
-- Judging (see the file's "about"): reads yield how many target rows the caller got (allowed:
-- >= 1; denied: 0 or an error, and nothing changed); writes are allowed when they succeed and
-- change rows (and the variant's check holds), denied when they fail or change nothing.
--
-- The matrix file: $SMTA_AUTHZ_MATRIX (the harness exports its absolute path), else the path
-- relative to the package root.
\set matrix `cat "${SMTA_AUTHZ_MATRIX:-Tests/SQL/authz/matrix.json}"`
begin;

create temporary table matrix_doc on commit drop as
select nullif(:'matrix', '')::jsonb as doc;

do $$
begin
  if (select doc from matrix_doc) is null then
    raise exception 'authz_declared_matrix: the matrix file is empty or unreadable (set SMTA_AUTHZ_MATRIX to its path)';
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Fixture keys: every placeholder a statement may name, as the SQL literal it stands for.
-- ---------------------------------------------------------------------------------------------
create temporary table fx (key text primary key, val text, lit text) on commit drop;

create function pg_temp.keep(p_key text, p_id uuid) returns uuid
language sql as $$
  insert into fx values (p_key, p_id::text, quote_literal(p_id::text) || '::uuid')
  on conflict (key) do update set val = excluded.val, lit = excluded.lit;
  select tests.remember(p_key, p_id);
$$;

create function pg_temp.keep_text(p_key text, p_value text) returns void
language sql as $$
  insert into fx values (p_key, p_value, quote_literal(p_value))
  on conflict (key) do update set val = excluded.val, lit = excluded.lit;
$$;

-- An invitation written directly (as an operator would), with a known raw token.
create function pg_temp.invite(
  p_key text, p_org text, p_unit text, p_role text, p_email text,
  p_status text default 'pending', p_expires interval default interval '7 days', p_deleted boolean default false
) returns uuid
language plpgsql as $$
declare
  v_token text := 'matrix-token-' || p_key;
  v_id uuid;
begin
  insert into core.invitations (email, organization_id, unit_id, role_id, invited_by, token, status, expires_at,
                                is_deleted, accepted_at, accepted_by)
  values (p_email, tests.id(p_org), tests.id(p_unit), tests.id(p_role),
          tests.id(case when p_org = 'org_b' then 'owner_b' else 'owner_a' end),
          core.hash_invitation_token(v_token), p_status, now() + p_expires, p_deleted,
          case when p_status = 'accepted' then now() end,
          case when p_status = 'accepted' then tests.id('subject_a') end)
  returning id into v_id;
  perform pg_temp.keep_text('tok_' || regexp_replace(p_key, '^inv_', ''), v_token);
  return pg_temp.keep(p_key, v_id);
end
$$;

-- An invitation link written directly, with a known token (the matrix reads it as ltok_<key>).
create function pg_temp.link(
  p_key text, p_org text, p_unit text, p_role text, p_revoked boolean default false
) returns uuid
language plpgsql as $$
declare
  v_token text := 'matrix-link-token-' || p_key;
  v_id uuid;
begin
  insert into core.invitation_links (organization_id, unit_id, role_id, token_hash, created_by, revoked_at)
  values (tests.id(p_org), tests.id(p_unit), tests.id(p_role), core.hash_invitation_token(v_token),
          tests.id(case when p_org = 'org_b' then 'owner_b' else 'owner_a' end),
          case when p_revoked then now() end)
  returning id into v_id;
  perform pg_temp.keep_text('ltok_' || regexp_replace(p_key, '^lnk_', ''), v_token);
  return pg_temp.keep(p_key, v_id);
end
$$;

do $$
declare
  v_key text;
  v_id uuid;
begin
  perform tests.world();
  perform set_config('app.secrets_key', 'matrix-key-0123456789abcdef012345', true);
  perform pg_temp.keep_text('secrets_key', 'matrix-key-0123456789abcdef012345');
  foreach v_key in array array['owner_a', 'manager_a', 'team_a', 'member_a', 'loner_a', 'org_a', 'unit_a1', 'unit_a2',
                               'file_a', 'owner_b', 'manager_b', 'team_b', 'member_b', 'loner_b', 'org_b', 'unit_b1',
                               'unit_b2', 'file_b'] loop
    perform pg_temp.keep(v_key, tests.id(v_key));
  end loop;
  perform pg_temp.keep('stranger', tests.id('stranger'));
  perform pg_temp.keep('team_role', tests.role_id('team'));
  perform pg_temp.keep('manager_role', tests.role_id('manager'));
  perform pg_temp.keep('super_admin_role', tests.role_id('super_admin'));

  -- Users beyond the world.
  perform pg_temp.keep('subject_a', tests.create_user('subject.a@smta.test', 'Subject', 'A'));
  perform pg_temp.keep('subject_b', tests.create_user('subject.b@smta.test', 'Subject', 'B'));
  perform pg_temp.keep('newcomer', tests.create_user('newcomer@smta.test', 'New', 'Comer'));
  perform pg_temp.keep('removed_a', tests.create_user('removed.a@smta.test', 'Removed', 'A'));
  perform pg_temp.keep('invitee_a', tests.create_user('invitee.a@smta.test', 'Invitee', 'A'));
  perform pg_temp.keep('unconsented_a', tests.create_user('unconsented.a@smta.test', 'Unconsented', 'A'));
  perform pg_temp.keep('user_del_a', tests.create_user('deleted.a@smta.test', 'Deleted', 'A'));
  perform pg_temp.keep('operator', tests.create_user('operator@smta.test', 'Platform', 'Operator'));
  perform pg_temp.keep('fresh_id', gen_random_uuid());

  perform tests.add_member(tests.id('org_a'), tests.id('subject_a'));
  perform tests.add_member(tests.id('org_b'), tests.id('subject_b'));
  -- Org N: where the newcomer and the invitee already are owner_a's colleagues (a direct
  -- membership insert adds colleagues only; strangers come by invitation or through the API).
  perform pg_temp.keep('org_n', tests.create_org(tests.id('owner_a'), 'Org N'));
  perform tests.add_member(tests.id('org_n'), tests.id('newcomer'));
  perform tests.add_member(tests.id('org_n'), tests.id('invitee_a'));
  perform tests.add_member(tests.id('org_a'), tests.id('removed_a'));
  perform tests.add_unit_member(tests.id('unit_a1'), tests.id('removed_a'));
  perform tests.add_member(tests.id('org_a'), tests.id('user_del_a'));
  update core.users_meta set is_deleted = true where id = tests.id('user_del_a');

  -- Organizations' own roles (one live, one soft-deleted in org A; one in org B).
  insert into core.roles (name, organization_id) values ('matrix_role_a', tests.id('org_a')) returning id into v_id;
  perform pg_temp.keep('role_a', v_id);
  insert into core.roles (name, organization_id) values ('matrix_role_b', tests.id('org_b')) returning id into v_id;
  perform pg_temp.keep('role_b', v_id);
  insert into core.roles (name, organization_id, is_deleted) values ('matrix_role_a_deleted', tests.id('org_a'), true)
    returning id into v_id;
  perform pg_temp.keep('role_a_del', v_id);

  -- Memberships and unit memberships used as targets.
  perform pg_temp.keep('m_team_a', (select id from core.memberships where user_id = tests.id('team_a') and organization_id = tests.id('org_a')));
  perform pg_temp.keep('m_subject_a', (select id from core.memberships where user_id = tests.id('subject_a') and organization_id = tests.id('org_a')));
  perform pg_temp.keep('m_team_b', (select id from core.memberships where user_id = tests.id('team_b') and organization_id = tests.id('org_b')));
  perform pg_temp.keep('um_a1', (select id from core.unit_memberships where user_id = tests.id('team_a') and unit_id = tests.id('unit_a1')));
  perform pg_temp.keep('um_b1', (select id from core.unit_memberships where user_id = tests.id('team_b') and unit_id = tests.id('unit_b1')));
  perform pg_temp.keep('um_a2', tests.add_unit_member(tests.id('unit_a2'), tests.id('team_a')));

  -- Rows to be soft-deleted, and org D (deleted below) where the callers hold their org A roles.
  perform pg_temp.keep('unit_a_del', tests.create_unit(tests.id('org_a'), 'Unit A deleted'));
  perform tests.add_unit_member(tests.id('unit_a_del'), tests.id('member_a'));
  perform pg_temp.keep('file_a_del', tests.create_file(tests.id('org_a')));
  perform pg_temp.keep('org_d', tests.create_org(tests.id('owner_a'), 'Org D'));
  perform tests.add_member(tests.id('org_d'), tests.id('manager_a'), 'manager');
  perform tests.add_member(tests.id('org_d'), tests.id('member_a'), 'team');
  perform tests.add_member(tests.id('org_d'), tests.id('loner_a'), 'team');
  perform tests.add_member(tests.id('org_d'), tests.id('subject_a'), 'team');
  insert into core.roles (name, organization_id) values ('matrix_role_d', tests.id('org_d'));

  -- A unit without its meta row and an organization without meta and platform rows (targets of
  -- direct inserts into those tables).
  perform pg_temp.keep('unit_bare', tests.create_unit(tests.id('org_a'), 'Unit A bare'));
  delete from core.unit_meta where id = tests.id('unit_bare');
  insert into core.organizations (name) values ('Org P (bare)') returning id into v_id;
  perform pg_temp.keep('org_p', v_id);
  delete from core.organizations_meta where id = v_id;
  delete from platform.platform_organizations where id = v_id;

  -- Through the API, as the owners: the removed member, the member added by id alone (no
  -- consent), secrets, and the soft deletions.
  perform tests.authenticate_as(tests.id('owner_a'));
  perform public.remove_member_from_organization(tests.id('org_a'), tests.id('removed_a'));
  perform public.add_member_to_organization(tests.id('org_a'), tests.id('unconsented_a'), tests.id('team_role'));
  perform tests.remember('secret_a', public.create_secret('organization', tests.id('org_a'), 'a', 'value-a'));
  perform tests.remember('secret_a_del', public.create_secret('organization', tests.id('org_a'), 'a-deleted', 'value-a-deleted'));
  perform public.delete_secret(tests.id('secret_a_del'));
  perform public.delete_unit(tests.id('unit_a_del'));
  perform public.delete_file(tests.id('file_a_del'));
  perform public.delete_organization(tests.id('org_d'));
  perform tests.authenticate_as(tests.id('owner_b'));
  perform tests.remember('secret_b', public.create_secret('organization', tests.id('org_b'), 'b', 'value-b'));
  perform tests.reset_identity();

  perform tests.add_unit_member(tests.id('unit_a2'), tests.id('unconsented_a'));
  foreach v_key in array array['secret_a', 'secret_a_del', 'secret_b'] loop
    perform pg_temp.keep(v_key, tests.id(v_key));
    perform pg_temp.keep_text(replace(v_key, 'secret', 'ref'),
                              (select secret_ref from platform.tenant_secrets where id = tests.id(v_key)));
  end loop;
  perform pg_temp.keep('m_removed', (select id from core.memberships where user_id = tests.id('removed_a') and organization_id = tests.id('org_a')));
  perform pg_temp.keep('um_removed', (select id from core.unit_memberships where user_id = tests.id('removed_a') and unit_id = tests.id('unit_a1')));

  -- Invitations in every state (written directly, after the membership changes above).
  perform pg_temp.invite('inv_a1', 'org_a', 'unit_a1', 'team_role', 'invited.a1@smta.test');
  perform pg_temp.invite('inv_a2', 'org_a', 'unit_a2', 'team_role', 'invited.a2@smta.test');
  perform pg_temp.invite('inv_b', 'org_b', 'unit_b1', 'team_role', 'invited.b@smta.test');
  perform pg_temp.invite('inv_invitee', 'org_a', null, 'team_role', 'invitee.a@smta.test');
  perform pg_temp.invite('inv_a_del', 'org_a', null, 'team_role', 'invitee.a@smta.test', p_deleted => true);
  perform pg_temp.invite('inv_a_cancelled', 'org_a', null, 'team_role', 'invitee.a@smta.test', 'cancelled');
  perform pg_temp.invite('inv_a_expired', 'org_a', null, 'team_role', 'invited.e@smta.test', 'expired', interval '-1 day');
  perform pg_temp.invite('inv_a_accepted', 'org_a', null, 'team_role', 'subject.a@smta.test', 'accepted');
  perform pg_temp.invite('inv_a_mgr', 'org_a', null, 'manager_role', 'invited.m@smta.test');
  perform pg_temp.invite('inv_a_exp', 'org_a', null, 'team_role', 'invited.x@smta.test', p_expires => interval '-1 day');
  perform pg_temp.invite('inv_b_exp', 'org_b', null, 'team_role', 'invited.x@smta.test', p_expires => interval '-1 day');
  perform pg_temp.invite('inv_subject', 'org_a', null, 'team_role', 'subject.a@smta.test');
  -- Pending invitations addressed to members themselves (leaving must cancel them).
  perform pg_temp.invite('inv_loner', 'org_a', null, 'team_role', 'loner.a@smta.test');
  perform pg_temp.invite('inv_member', 'org_a', null, 'team_role', 'member.a@smta.test');
  perform pg_temp.invite('inv_manager', 'org_a', null, 'team_role', 'manager.a@smta.test');
  -- Invitation links: one per target, and a revoked one.
  perform pg_temp.link('lnk_a1', 'org_a', 'unit_a1', 'team_role');
  perform pg_temp.link('lnk_a2', 'org_a', 'unit_a2', 'team_role');
  perform pg_temp.link('lnk_b', 'org_b', 'unit_b1', 'team_role');
  perform pg_temp.link('lnk_a_revoked', 'org_a', null, 'team_role', p_revoked => true);
  -- SCIM tokens: one live per organization, one revoked in org A.
  foreach v_key in array array['a', 'b', 'a_revoked'] loop
    insert into core.scim_tokens (organization_id, label, token_hash, revoked_at)
    values (tests.id('org_' || left(v_key, 1)), 'matrix ' || v_key,
            core.hash_invitation_token('smta_scim_' || rpad('matrix' || v_key, 64, 'x')),
            case when v_key = 'a_revoked' then now() end)
    returning id into v_id;
    perform pg_temp.keep('scim_' || v_key, v_id);
    perform pg_temp.keep_text('stok_' || v_key, 'smta_scim_' || rpad('matrix' || v_key, 64, 'x'));
  end loop;
  -- SCIM users and groups, per organization: a group whose member is the first user; the
  -- second user is in no group.
  foreach v_key in array array['a', 'b'] loop
    insert into core.scim_users (organization_id, user_name, role_id)
    values (tests.id('org_' || v_key), 'matrix.' || v_key, tests.id('team_role')) returning id into v_id;
    perform pg_temp.keep('scim_user_' || v_key, v_id);
    insert into core.scim_users (organization_id, user_name, role_id)
    values (tests.id('org_' || v_key), 'matrix2.' || v_key, tests.id('team_role')) returning id into v_id;
    perform pg_temp.keep('scim_user_' || v_key || '2', v_id);
    v_id := tests.create_unit(tests.id('org_' || v_key), 'Matrix SCIM group ' || v_key);
    insert into core.scim_groups (unit_id, organization_id) values (v_id, tests.id('org_' || v_key));
    insert into core.scim_group_members (unit_id, scim_user_id, organization_id)
    values (v_id, tests.id('scim_user_' || v_key), tests.id('org_' || v_key));
    perform pg_temp.keep('scim_group_' || v_key, v_id);
  end loop;
  -- Email domains, one verified and one pending per organization (org D's deleted with it).
  foreach v_key in array array['a', 'b', 'd'] loop
    insert into core.organization_domains (organization_id, domain, verification_token, role_id, verified_at)
    values (tests.id('org_' || v_key), v_key || '.matrix.example', 'matrix-domain-' || v_key, tests.id('team_role'), now())
    returning id into v_id;
    perform pg_temp.keep('dom_' || v_key, v_id);
    insert into core.organization_domains (organization_id, domain, verification_token, role_id)
    values (tests.id('org_' || v_key), 'pending.' || v_key || '.matrix.example', 'matrix-pending-' || v_key, tests.id('team_role'))
    returning id into v_id;
    perform pg_temp.keep('pdom_' || v_key, v_id);
  end loop;

  perform pg_temp.keep('audit_a', (select id from core.audit_logs where organization_id = tests.id('org_a') order by created_at limit 1));
  perform pg_temp.keep('audit_b', (select id from core.audit_logs where organization_id = tests.id('org_b') order by created_at limit 1));

  -- Platform rows.
  update platform.platform_organizations set label = 'stale label' where id in (tests.id('org_a'), tests.id('org_b'));
  foreach v_key in array array['a', 'b'] loop
    insert into platform.platform_feature_flags (key, organization_id, value)
    values ('matrix_flag', tests.id('org_' || v_key), 'true') returning id into v_id;
    perform pg_temp.keep('flag_' || v_key, v_id);
    insert into platform.platform_subscription_overrides (organization_id, plan_override, features, reason)
    values (tests.id('org_' || v_key), '', '{"sso": true}', 'matrix fixture');
    insert into platform.billing_customers (organization_id, provider_customer_id)
    values (tests.id('org_' || v_key), 'cus_matrix_' || v_key);
    insert into platform.billing_subscriptions (organization_id, provider_subscription_id, plan, status)
    values (tests.id('org_' || v_key), 'sub_matrix_' || v_key, 'Matrix', 'active') returning id into v_id;
    perform pg_temp.keep('sub_' || v_key, v_id);
    insert into platform.billing_events (provider, event_id, organization_id, payload, outcome)
    values ('stripe', 'evt_matrix_' || v_key, tests.id('org_' || v_key), '{}', 'ignored') returning id into v_id;
    perform pg_temp.keep('ev_' || v_key, v_id);
  end loop;
  insert into platform.platform_settings (key, value) values ('matrix.setting', '"on"');
  insert into platform.subscription_products (paymentprocessor_price_id, name, billing_interval, amount)
  values ('price_matrix_fixture', 'Matrix fixture plan', 'month', 100) returning id into v_id;
  perform pg_temp.keep('product', v_id);
  insert into platform.platform_action_logs (action_type) values ('matrix fixture') returning id into v_id;
  perform pg_temp.keep('plog', v_id);
  insert into platform.platform_system_events (event_type) values ('matrix fixture') returning id into v_id;
  perform pg_temp.keep('pevent', v_id);
  perform pg_temp.keep('prole', '10000000-0000-0000-0000-000000000003');
  perform pg_temp.keep('prole_admin', '10000000-0000-0000-0000-000000000002');
  insert into platform.platform_roles (name) values ('matrix_free_role') returning id into v_id;
  perform pg_temp.keep('prole_free', v_id);
  insert into platform.platform_users (user_id, email, role_id)
  values (tests.id('operator'), 'operator@smta.test', tests.id('prole')) returning id into v_id;
  perform pg_temp.keep('puser', v_id);

  -- The identity map of adapters that link external identities (Payload, OIDC); the core's
  -- default link_identity refuses, so key on the table the linking adapters create.
  if to_regclass('core.identity_links') is not null then
    execute $q$select core.link_identity('payload', 'users:matrix-fixture', 'linked@smta.test')$q$ into v_id;
    perform pg_temp.keep('link_user', v_id);
  end if;

  -- An application table, made tenant-safe with the unit column.
  create table app.matrix_notes (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references core.organizations (id),
    unit_id uuid,
    body text
  );
  perform core.enable_tenancy('app.matrix_notes', 'organization_id', 'unit_id');
  foreach v_key in array array['note_a1:org_a:unit_a1', 'note_a2:org_a:unit_a2', 'note_a:org_a:', 'note_b:org_b:unit_b1'] loop
    insert into app.matrix_notes (organization_id, unit_id, body)
    values (tests.id(split_part(v_key, ':', 2)), tests.id(nullif(split_part(v_key, ':', 3), '')), 'fixture')
    returning id into v_id;
    perform pg_temp.keep(split_part(v_key, ':', 1), v_id);
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- The matrix, expanded
-- ---------------------------------------------------------------------------------------------
create temporary table callers (caller text primary key, ord int, user_key text) on commit drop;
insert into callers
select c, o, (select doc -> 'callers' -> c ->> 'user' from matrix_doc)
from unnest(array['anon', 'outsider', 'removed_member', 'invitee', 'team_member', 'unit_member', 'manager',
                  'super_admin', 'service_role']) with ordinality as u(c, o);

create temporary table tmap on commit drop as
select t.key as target, p.key as placeholder, p.value #>> '{}' as fkey
from matrix_doc, jsonb_each(doc -> 'targets') t, jsonb_each(t.value) p
where p.key <> 'note';

create temporary table target_order (target text primary key, ord int) on commit drop;
insert into target_order
select t, o from unnest(array['own_unit', 'other_unit', 'other_org', 'soft_deleted', 'moved', 'none']) with ordinality as u(t, o);

-- Callers named by a caller list ("@group" expands; an unknown name comes back as "?name").
create function pg_temp.expand(p_list jsonb) returns text[]
language plpgsql stable as $$
declare
  v_token text;
  v_out text[] := '{}';
begin
  for v_token in
    select regexp_split_to_table(btrim(case jsonb_typeof(p_list) when 'array' then
             (select string_agg(e, ' ') from jsonb_array_elements_text(p_list) e) else p_list #>> '{}' end), '\s+')
  loop
    continue when v_token = '';
    if v_token like '@%' then
      if (select doc -> 'groups' ? substr(v_token, 2) from matrix_doc) then
        v_out := v_out || pg_temp.expand((select doc -> 'groups' -> substr(v_token, 2) from matrix_doc));
      else
        v_out := v_out || ('?' || v_token);
      end if;
    elsif exists (select 1 from callers where caller = v_token) then
      v_out := v_out || v_token;
    else
      v_out := v_out || ('?' || v_token);
    end if;
  end loop;
  return v_out;
end
$$;

-- A statement with its placeholders replaced for one target and caller. With p_unknown, every
-- org B id (foreign_ids) becomes a fresh random uuid instead.
create function pg_temp.fill(p_sql text, p_target text, p_caller text, p_unknown boolean default false) returns text
language plpgsql as $$
declare
  v_out text := p_sql;
  v_name text;
  v_key text;
  v_lit text;
begin
  if p_sql is null then
    return null;
  end if;
  for v_name in select distinct m[1] from regexp_matches(p_sql, '\{([a-z][a-z0-9_]*)\}', 'g') as m loop
    if v_name = 'me' then
      select coalesce(fx.lit, 'null::uuid') into v_lit
      from callers c left join fx on fx.key = c.user_key where c.caller = p_caller;
    else
      v_key := coalesce((select fkey from tmap where target = p_target and placeholder = v_name), v_name);
      if p_unknown and (select doc -> 'foreign_ids' ? v_key from matrix_doc) then
        v_lit := quote_literal(gen_random_uuid()::text) || '::uuid';
      else
        v_lit := (select lit from fx where key = v_key);
      end if;
    end if;
    if v_lit is not null then
      v_out := replace(v_out, '{' || v_name || '}', v_lit);
    end if;
  end loop;
  return v_out;
end
$$;

create temporary table variants on commit drop as
with objects as (
  select 'table' as okind, t.key as object, t.value as entry,
         to_regclass(t.key) is not null as present
  from matrix_doc, jsonb_each(doc -> 'tables') t
  union all
  select 'function', f.key, f.value, to_regprocedure(f.key) is not null
  from matrix_doc, jsonb_each(doc -> 'functions') f
),
ops as (
  select o.*, op.key as op, op.value as opval
  from objects o, jsonb_each(o.entry) op
  where op.key in ('select', 'insert', 'update', 'delete', 'call')
)
select row_number() over (order by object, op, v.ord) as vid, okind, object, present,
       coalesce((entry ->> 'optional')::boolean, false) as optional, op, v.ord as vno,
       coalesce(v.value ->> 'name', '') as vname,
       case when op = 'select' then 'read' when op = 'call' then coalesce(v.value ->> 'kind', 'write') else 'write' end as kind,
       v.value ->> 'sql' as sql, v.value ->> 'moved' as moved_sql, v.value ->> 'check' as check_sql,
       coalesce((v.value ->> 'either')::boolean, false) as either,
       coalesce((v.value ->> 'scope_check')::boolean, false) as scope_check,
       case when v.value ? 'callers' then pg_temp.expand(v.value -> 'callers') end as only_callers,
       coalesce(v.value -> 'allow', '{}') as allow,
       v.value ->> 'probe' as probe_target,
       v.value ? 'unprobed' as unprobed
from ops,
     jsonb_array_elements(case jsonb_typeof(opval) when 'array' then opval else jsonb_build_array(opval) end)
       with ordinality as v(value, ord);

create temporary table cases (
  n serial primary key,
  vid bigint, object text, op text, vname text, kind text, target text, caller text,
  expect text,            -- allowed | denied | either; null for probes
  probe text,             -- null, or foreign | unknown (the "answer alike" pairs)
  sql text, check_sql text, scope_check boolean,
  state text, message text, result text, nrows bigint, changed boolean, check_ok boolean, pass boolean
) on commit drop;

insert into cases (vid, object, op, vname, kind, target, caller, expect, sql, check_sql, scope_check)
select v.vid, v.object, v.op, v.vname, v.kind, a.key, c.caller,
       case when c.caller = any (pg_temp.expand(a.value)) then case when v.either then 'either' else 'allowed' end
            else 'denied' end,
       pg_temp.fill(case when a.key = 'moved' and v.moved_sql is not null then v.moved_sql else v.sql end, a.key, c.caller),
       pg_temp.fill(v.check_sql, a.key, c.caller), v.scope_check
from variants v
cross join lateral jsonb_each(v.allow) a
join target_order t on t.target = a.key
cross join callers c
where v.present and (v.only_callers is null or c.caller = any (v.only_callers))
order by v.vid, t.ord, c.ord;

-- Unknown and foreign ids answer alike: every function taking a uuid, each variant with an
-- other_org target (or the variant's own probe target, tables included), as team_member, manager
-- and super_admin, with org B's ids and with random ones. A variant marked "unprobed" (with
-- its reason) is not: its ids are not tenant data.
insert into cases (vid, object, op, vname, kind, target, caller, probe, sql)
select v.vid, v.object, v.op, v.vname, v.kind, t.target, c.caller, p.probe,
       pg_temp.fill(v.sql, t.target, c.caller, p.probe = 'unknown')
from variants v
cross join lateral (select coalesce(v.probe_target, 'other_org') as target) t
cross join (values ('foreign'), ('unknown')) p(probe)
cross join callers c
where v.present and v.allow ? t.target and not v.unprobed
  and (v.probe_target is not null
       or (v.okind = 'function'
           and 'uuid'::regtype = any ((select proargtypes from pg_catalog.pg_proc where oid = to_regprocedure(v.object))::oid[])))
  and c.caller in ('team_member', 'manager', 'super_admin')
order by v.vid, c.ord, p.probe;

-- ---------------------------------------------------------------------------------------------
-- Running the cases
-- ---------------------------------------------------------------------------------------------
-- A fingerprint of every row of core, platform and app (tests.digest() plus app tables).
create function pg_temp.digest() returns text
language plpgsql as $$
declare
  v_table regclass;
  v_part text;
  v_all text := '';
begin
  for v_table in
    select c.oid::regclass from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('core', 'platform', 'utils', 'app') and c.relkind in ('r', 'p')
    order by 1::text
  loop
    execute format('select coalesce(pg_catalog.string_agg(t::text, %L order by t::text), %L) from %s t',
                   E'\n', '', v_table) into v_part;
    v_all := v_all || v_table::text || ':' || pg_catalog.md5(v_part) || ';';
  end loop;
  return pg_catalog.md5(v_all);
end
$$;

-- Runs one statement as p_caller, records how it ended and what it changed, then undoes it.
create function pg_temp.run_case(
  p_caller text, p_sql text, p_check text, p_digest boolean, p_baseline text, p_deferred text,
  out state text, out message text, out result text, out nrows bigint, out changed boolean, out check_ok boolean
)
language plpgsql as $$
declare
  v_user uuid := (select fx.val::uuid from callers c join fx on fx.key = c.user_key where c.caller = p_caller);
begin
  begin
    if p_caller = 'anon' then
      perform tests.authenticate_anon();
    elsif p_caller = 'service_role' then
      perform tests.authenticate_service_role();
    else
      perform tests.authenticate_as(v_user);
    end if;
    begin
      if p_sql ~* '^\s*(select|with|values|table)\M' then
        execute p_sql into result;
      else
        execute p_sql;
        get diagnostics nrows = row_count;
      end if;
      -- Deferred checks (one live super_admin per organization, at commit) run now, as the
      -- superuser, so that a case which would fail at commit fails here.
      perform tests.reset_identity();
      if p_deferred is not null then
        execute 'set constraints ' || p_deferred || ' immediate';
      end if;
    exception when others then
      state := sqlstate;
      message := sqlerrm;
    end;
    perform tests.reset_identity();
    if state is null then
      if p_digest then
        changed := pg_temp.digest() is distinct from p_baseline;
      end if;
      if p_check is not null then
        execute p_check into check_ok;
      end if;
    end if;
    raise exception 'undo' using errcode = 'TS001';
  exception when sqlstate 'TS001' then
    null;
  end;
  -- A SET CONSTRAINTS made in a committed inner block outlives the rollback of the outer one:
  -- restore the initial deferral here, outside every subtransaction.
  if p_deferred is not null then
    execute 'set constraints ' || p_deferred || ' deferred';
  end if;
end
$$;

do $$
declare
  v_base text := pg_temp.digest();
  -- The deferrable constraints that are initially deferred.
  v_deferred text := (select string_agg(format('%I.%I', n.nspname, c.conname), ', ')
                      from pg_catalog.pg_constraint c join pg_catalog.pg_namespace n on n.oid = c.connamespace
                      where c.condeferrable and c.condeferred);
  c record;
  r record;
begin
  for c in select n, caller, sql, check_sql, kind, op, expect, probe from cases order by n loop
    continue when c.sql is null or c.sql ~ '\{[a-z][a-z0-9_]*\}';
    r := pg_temp.run_case(c.caller, c.sql, c.check_sql,
                          c.probe is null and c.op <> 'select' and (c.kind = 'write' or c.expect <> 'allowed'), v_base, v_deferred);
    update cases
    set state = r.state, message = r.message, result = r.result, nrows = r.nrows, changed = r.changed, check_ok = r.check_ok
    where n = c.n;
  end loop;
end
$$;

update cases
set pass = case
  when sql is null or sql ~ '\{[a-z][a-z0-9_]*\}' then false
  when kind = 'read' then
    case when expect = 'allowed' then state is null and coalesce(substring(result from '^\d+$')::numeric, 0) > 0
         else state is not null
              or (coalesce(substring(result from '^\d+$')::numeric, 0) = 0 and not coalesce(changed, false)) end
  when expect = 'allowed' then
    state is null and case when check_sql is not null then coalesce(check_ok, false) else coalesce(changed, false) end
  when expect = 'either' then
    state is not null or coalesce(check_ok, false)
  else
    state is not null or case when scope_check then not coalesce(check_ok, false) else not coalesce(changed, false) end
  end
where probe is null;

-- ---------------------------------------------------------------------------------------------
-- Completeness
-- ---------------------------------------------------------------------------------------------
create temporary table gaps (check_name text, item text) on commit drop;
insert into gaps
select 'table', format('%I.%I', n.nspname, c.relname)
from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
where n.nspname in ('core', 'platform', 'utils', 'app') and c.relkind in ('r', 'p', 'v', 'm', 'f')
  and not exists (select 1 from matrix_doc where doc -> 'tables' ? format('%s.%s', n.nspname, c.relname));
insert into gaps
select 'function', format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes))
from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('core', 'platform', 'public', 'utils', 'auth')
  and (has_function_privilege('anon', p.oid, 'EXECUTE') or has_function_privilege('authenticated', p.oid, 'EXECUTE')
       or has_function_privilege('service_role', p.oid, 'EXECUTE'))
  and not exists (select 1 from matrix_doc
                  where doc -> 'functions' ? format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes)));
insert into gaps
select distinct 'missing object', object from variants where not present and not optional;
insert into gaps
select 'id function', format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes))
from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('core', 'platform', 'public', 'utils', 'auth')
  and has_function_privilege('authenticated', p.oid, 'EXECUTE')
  and 'uuid'::regtype = any (p.proargtypes::oid[])
  and not exists (select 1 from variants v where v.okind = 'function' and v.object = format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.oidvectortypes(p.proargtypes))
                  and v.allow ? 'other_org');
insert into gaps
select distinct 'unknown name', format('%s %s: %s', v.object, v.op, x)
from variants v
cross join lateral (
  select unnest(pg_temp.expand(a.value)) from jsonb_each(v.allow) a
  union all select unnest(coalesce(v.only_callers, '{}'))
  union all select '?target ' || a.key from jsonb_each(v.allow) a where not exists (select 1 from target_order t where t.target = a.key)
) as u(x)
where x like '?%';
insert into gaps
select distinct 'placeholder', format('%s %s%s on %s: %s', object, op, case when vname <> '' then ' [' || vname || ']' else '' end, target,
                             substring(coalesce(sql, '(no sql)') || ' ' || coalesce(check_sql, '') from '\{[a-z][a-z0-9_]*\}|\(no sql\)'))
from cases
where sql is null or sql ~ '\{[a-z][a-z0-9_]*\}' or check_sql ~ '\{[a-z][a-z0-9_]*\}';

-- ---------------------------------------------------------------------------------------------
-- Assertions
-- ---------------------------------------------------------------------------------------------
select plan(
  (select count(distinct (object, op))::int from cases where probe is null)
  + (select count(distinct object)::int from cases where probe is not null)
  + 7);

select ok(not exists (select 1 from gaps where check_name = 'table'),
          'every table of core, platform, utils and app has a matrix entry')
       || coalesce(E'\n' || diag('    no entry for: ' || (select string_agg(item, ', ' order by item) from gaps where check_name = 'table')), '');
select ok(not exists (select 1 from gaps where check_name = 'function'),
          'every function anon, authenticated or service_role may execute has a matrix entry')
       || coalesce(E'\n' || diag('    no entry for: ' || (select string_agg(item, ', ' order by item) from gaps where check_name = 'function')), '');
select ok(not exists (select 1 from gaps where check_name = 'missing object'),
          'every matrix entry names an existing table or function (or is marked optional)')
       || coalesce(E'\n' || diag('    no such object: ' || (select string_agg(item, ', ' order by item) from gaps where check_name = 'missing object')), '');
select ok(not exists (select 1 from gaps where check_name = 'id function'),
          'every function taking an id that authenticated may execute has an other_org case')
       || coalesce(E'\n' || diag('    no other_org case: ' || (select string_agg(item, ', ' order by item) from gaps where check_name = 'id function')), '');
select ok(not exists (select 1 from gaps where check_name = 'unknown name'),
          'the matrix names only known callers, groups and targets')
       || coalesce(E'\n' || diag('    unknown: ' || (select string_agg(item, ', ' order by item) from gaps where check_name = 'unknown name')), '');
select ok(not exists (select 1 from gaps where check_name = 'placeholder'),
          'every placeholder of every case is filled')
       || coalesce(E'\n' || diag('    unfilled: ' || (select string_agg(item, E'\n    ' order by item) from gaps where check_name = 'placeholder')), '');

-- One line per (object, op).
select ok(count(*) filter (where not pass) = 0,
          format('%s %s: as declared for every caller and target (%s cases)', object, op, count(*)))
       || coalesce(E'\n' || diag(string_agg(
            format('    %s %s%s | %s on %s: expected %s, got %s%s',
                   object, op, case when vname <> '' then ' [' || vname || ']' else '' end, caller, target,
                   case expect when 'either' then 'refused, or done as the caller (check)' else expect end,
                   case when state is not null then format('error %s: %s', state, message)
                        else format('success (result %s, rows %s, changed %s, check %s)', coalesce(result, '-'),
                                    coalesce(nrows::text, '-'), coalesce(changed::text, '-'), coalesce(check_ok::text, '-')) end,
                   E'\n        ' || left(sql, 300)),
            E'\n' order by n) filter (where not pass)), '')
from cases
where probe is null
group by object, op
order by object, op;

-- Unknown and foreign ids: same SQLSTATE, same message (ids in it masked), same result.
with pairs as (
  select f.object, f.op, f.vname, f.caller, f.state as f_state, u.state as u_state,
         regexp_replace(f.message, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'gi') as f_message,
         regexp_replace(u.message, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'gi') as u_message,
         f.result as f_result, u.result as u_result, f.n
  from cases f join cases u on u.vid = f.vid and u.caller = f.caller and u.probe = 'unknown'
  where f.probe = 'foreign'
)
select ok(count(*) filter (where (f_state, f_message, f_result) is distinct from (u_state, u_message, u_result)) = 0,
          format('%s: a foreign id and an unknown id answer alike (%s calls)', object, count(*)))
       || coalesce(E'\n' || diag(string_agg(
            format('    %s%s%s | %s: foreign id -> %s, unknown id -> %s',
                   object, case when op <> 'call' then ' ' || op else '' end,
                   case when vname <> '' then ' [' || vname || ']' else '' end, caller,
                   coalesce(f_state || ': ' || f_message, 'success, result ' || coalesce(f_result, '-')),
                   coalesce(u_state || ': ' || u_message, 'success, result ' || coalesce(u_result, '-'))),
            E'\n' order by n) filter (where (f_state, f_message, f_result) is distinct from (u_state, u_message, u_result))), '')
from pairs
group by object
order by object;

select cmp_ok((select count(*)::int from cases where probe is null and pass is not null), '>=', 1500,
              format('at least 1500 declared cases executed (%s, plus %s id probes)',
                     (select count(*) from cases where probe is null), (select count(*) from cases where probe is not null)));

select * from finish();
rollback;
