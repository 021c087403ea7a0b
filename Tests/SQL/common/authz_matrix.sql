-- The authorization matrix, generated: built-in roles (super_admin, manager, team of org A) ×
-- the organization-scoped API functions × targets in their own organization, in another
-- organization, and soft-deleted. Each case runs as that caller, its outcome is recorded, and
-- its effects are undone. Allowed reads return rows; refused reads fail with 42501/P0002 or
-- return nothing; allowed writes succeed and change rows; refused writes fail with 42501/P0002
-- (leave_organization by the owner: P0001 too) — and a failed statement changes no row.
--
-- Who may do what follows SMTA 0.8, with issue 2's rule that only the super_admin and managers
-- write others' memberships, and the contract's invitation rule (any member invites).
begin;
select plan(395);
select tests.world();
select set_config('app.secrets_key', 'matrix-key-0123456789abcdef012345', true);
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));

-- Targets in org B.
select tests.authenticate_as(tests.id('owner_b'));
select tests.remember('inv_b', id) from public.create_invitation('invited.b@smta.test', tests.id('org_b'), tests.id('team_role'));
select tests.remember('secret_b', public.create_secret('organization', tests.id('org_b'), 'b', 'value-b'));

-- Targets in org A, live and soft-deleted, and a soft-deleted organization D where the callers
-- held the same roles.
select tests.reset_identity();
select tests.remember('unit_a_del', tests.create_unit(tests.id('org_a'), 'Unit A deleted'));
select tests.add_unit_member(tests.id('unit_a_del'), tests.id('member_a'));
select tests.remember('file_a_del', tests.create_file(tests.id('org_a')));
select tests.remember('org_d', tests.create_org(tests.id('owner_a'), 'Org D'));
select tests.add_member(tests.id('org_d'), tests.id('manager_a'), 'manager');
select tests.add_member(tests.id('org_d'), tests.id('team_a'), 'team');
select tests.add_member(tests.id('org_d'), tests.id('member_a'), 'team');
select tests.add_member(tests.id('org_d'), tests.id('loner_a'), 'team');
select tests.authenticate_as(tests.id('owner_a'));
select tests.remember('inv_a', id) from public.create_invitation('invited.a@smta.test', tests.id('org_a'), tests.id('team_role'));
select tests.remember('secret_a', public.create_secret('organization', tests.id('org_a'), 'a', 'value-a'));
select tests.remember('secret_a_del', public.create_secret('organization', tests.id('org_a'), 'a-deleted', 'value-a-deleted'));
select lives_ok(format('select public.delete_secret(%L)', tests.id('secret_a_del')), 'setup: a secret of org A is deleted');
select lives_ok(format('select public.delete_unit(%L)', tests.id('unit_a_del')), 'setup: a unit of org A is deleted');
select lives_ok(format('select public.delete_file(%L)', tests.id('file_a_del')), 'setup: a file of org A is deleted');
select lives_ok(format('select public.delete_organization(%L)', tests.id('org_d')), 'setup: org D is deleted');
select tests.reset_identity();

-- What each placeholder means in each scope.
create temporary table targets (scope text, placeholder text, key text) on commit drop;
insert into targets values
  ('own', 'org', 'org_a'), ('own', 'unit', 'unit_a1'), ('own', 'member', 'member_a'), ('own', 'loner', 'loner_a'),
  ('own', 'file', 'file_a'), ('own', 'inv', 'inv_a'), ('own', 'secret', 'secret_a'),
  ('other', 'org', 'org_b'), ('other', 'unit', 'unit_b1'), ('other', 'member', 'member_b'), ('other', 'loner', 'loner_b'),
  ('other', 'file', 'file_b'), ('other', 'inv', 'inv_b'), ('other', 'secret', 'secret_b'),
  ('deleted', 'org', 'org_d'), ('deleted', 'unit', 'unit_a_del'), ('deleted', 'member', 'member_a'), ('deleted', 'loner', 'loner_a'),
  ('deleted', 'file', 'file_a_del'), ('deleted', 'secret', 'secret_a_del');
insert into targets select s, 'stranger', 'stranger' from unnest(array['own', 'other', 'deleted']) s;
insert into targets select s, 'team_role', 'team_role' from unnest(array['own', 'other', 'deleted']) s;
insert into targets select s, 'manager_role', 'manager_role' from unnest(array['own', 'other', 'deleted']) s;

-- The functions: kind, call, roles allowed on their own organization's live target (null: not
-- a case), roles allowed on the soft-deleted target (null: not a case).
create temporary table cases (
  n serial, fn text, kind text, call text, own_allowed text[], deleted_allowed text[],
  deny_states text[] default '{42501,P0002}'
) on commit drop;
insert into cases (fn, kind, call, own_allowed, deleted_allowed) values
  -- organizations
  ('get_organization', 'read', 'select count(*) from public.get_organization({org})', '{super_admin,manager,team}', '{}'),
  ('get_user_role', 'read', 'select count(*) from (select public.get_user_role({org}) r) q where r is not null', '{super_admin,manager,team}', '{}'),
  ('get_user_permissions', 'read', 'select count(*) from public.get_user_permissions({org})', '{super_admin,manager,team}', '{}'),
  ('list_organization_members', 'read', 'select count(*) from public.list_organization_members({org})', '{super_admin,manager,team}', '{}'),
  ('update_organization', 'write', $$select count(*) from public.update_organization({org}, 'Renamed by the matrix')$$, '{super_admin}', '{}'),
  ('update_organization_meta', 'write', $$select count(*) from public.update_organization_meta({org}, null, 'Matrix street 1')$$, '{super_admin}', '{}'),
  ('delete_organization', 'write', 'select public.delete_organization({org})', '{super_admin}', '{}'),
  ('restore_organization', 'write', 'select count(*) from public.restore_organization({org})', null, '{super_admin}'),
  ('transfer_super_admin', 'write', 'select public.transfer_super_admin({org}, {member})', '{super_admin}', '{}'),
  ('get_audit_log', 'read', 'select count(*) from public.get_audit_log({org}, 50)', '{super_admin,manager,team}', '{}'),
  -- members
  ('add_member_to_organization', 'write', 'select public.add_member_to_organization({org}, {stranger}, {team_role})', '{super_admin}', '{}'),
  ('update_member_role', 'write', 'select public.update_member_role({org}, {member}, {manager_role})', '{super_admin}', '{}'),
  ('remove_member_from_organization', 'write', 'select public.remove_member_from_organization({org}, {member})', '{super_admin}', '{}'),
  ('remove_user_from_organization', 'write', 'select public.remove_user_from_organization({member}, {org})', '{super_admin,manager}', '{}'),
  -- roles
  ('list_roles', 'read', 'select count(*) from public.list_roles({org})', '{super_admin,manager,team}', '{}'),
  ('create_role', 'write', $$select count(*) from public.create_role({org}, 'matrix_role')$$, '{super_admin}', '{}'),
  -- units
  ('list_units', 'read', 'select count(*) from public.list_units({org})', '{super_admin,manager,team}', '{}'),
  ('get_user_units', 'read', 'select count(*) from public.get_user_units({org})', '{super_admin,manager,team}', '{}'),
  ('get_unit', 'read', 'select count(*) from public.get_unit({unit})', '{super_admin,manager,team}', '{}'),
  ('list_unit_members', 'read', 'select count(*) from public.list_unit_members({unit})', '{super_admin,manager,team}', '{}'),
  ('get_user_unit_permissions', 'read', 'select count(*) from public.get_user_unit_permissions({unit})', '{super_admin,manager,team}', '{}'),
  ('create_unit', 'write', $$select count(*) from public.create_unit({org}, 'Matrix unit')$$, '{super_admin,manager,team}', '{}'),
  ('update_unit', 'write', $$select count(*) from public.update_unit({unit}, 'Matrix unit')$$, '{super_admin,manager,team}', '{}'),
  ('delete_unit', 'write', 'select public.delete_unit({unit})', '{super_admin}', '{}'),
  ('restore_unit', 'write', 'select count(*) from public.restore_unit({unit})', null, '{super_admin}'),
  ('add_member_to_unit', 'write', 'select public.add_member_to_unit({unit}, {loner}, {team_role})', '{super_admin}', '{}'),
  ('update_unit_member_role', 'write', 'select public.update_unit_member_role({unit}, {member}, {manager_role})', '{super_admin}', '{}'),
  ('remove_member_from_unit', 'write', 'select public.remove_member_from_unit({unit}, {member})', '{super_admin}', '{}'),
  ('assign_user_to_unit', 'write', 'select public.assign_user_to_unit({loner}, {unit}, {team_role})', '{super_admin,manager}', '{}'),
  ('remove_user_from_unit', 'write', 'select public.remove_user_from_unit({member}, {unit})', '{super_admin,manager}', '{}'),
  -- files
  ('list_files', 'read', 'select count(*) from public.list_files({org})', '{super_admin,manager,team}', '{}'),
  ('get_file', 'read', 'select count(*) from public.get_file({file})', '{super_admin,manager,team}', '{}'),
  ('create_file', 'write', $$select count(*) from public.create_file({org}, 'https://files.example.test/matrix', 'text/plain')$$, '{super_admin,manager,team}', '{}'),
  ('update_file_metadata', 'write', $$select count(*) from public.update_file_metadata({file}, '{"matrix": true}')$$, '{super_admin,manager,team}', '{}'),
  ('delete_file', 'write', 'select public.delete_file({file})', '{super_admin,manager,team}', '{}'),
  ('restore_file', 'write', 'select count(*) from public.restore_file({file})', null, '{super_admin,manager,team}'),
  -- invitations
  ('list_invitations', 'read', 'select count(*) from public.list_invitations({org})', '{super_admin,manager,team}', '{}'),
  ('create_invitation', 'write', $$select count(*) from public.create_invitation('matrix@smta.test', {org}, {team_role})$$, '{super_admin,manager,team}', '{}'),
  ('cancel_invitation', 'write', 'select public.cancel_invitation({inv})', '{super_admin,manager,team}', null),
  ('resend_invitation', 'write', 'select count(*) from public.resend_invitation({inv})', '{super_admin,manager,team}', null),
  -- secrets
  ('list_secrets', 'read', $$select count(*) from public.list_secrets('organization', {org})$$, '{super_admin,manager,team}', '{}'),
  ('read_secret', 'read', 'select count(*) from (select public.read_secret({secret}) v) q where v is not null', '{super_admin}', '{}'),
  ('create_secret', 'write', $$select public.create_secret('organization', {org}, 'matrix', 'matrix-value')$$, '{super_admin}', '{}'),
  ('delete_secret', 'write', 'select public.delete_secret({secret})', '{super_admin}', '{}');
insert into cases (fn, kind, call, own_allowed, deleted_allowed, deny_states) values
  ('leave_organization', 'write', 'select public.leave_organization({org})', '{manager,team}', '{}', '{42501,P0002,P0001}');

-- Every case: function × caller role × scope, with its statement and expectation.
create temporary table matrix on commit drop as
select row_number() over (order by c.n, r.ord, s.ord) as n, c.fn, c.kind, c.deny_states,
       r.role, r.caller, s.scope,
       case s.scope when 'own' then r.role = any (c.own_allowed)
                    when 'deleted' then r.role = any (c.deleted_allowed)
                    else false end as expect_allowed,
       c.call as template
from cases c
cross join (values (1, 'super_admin', 'owner_a'), (2, 'manager', 'manager_a'), (3, 'team', 'team_a')) r(ord, role, caller)
cross join (values (1, 'own'), (2, 'other'), (3, 'deleted')) s(ord, scope)
where (s.scope <> 'own' or c.own_allowed is not null)
  and (s.scope <> 'deleted' or c.deleted_allowed is not null);
alter table matrix add column statement text, add column state text, add column message text,
                   add column result text, add column changed boolean;
-- The case's statement: its placeholders replaced by the scope's targets, as uuid literals.
create function pg_temp.fill(p_template text, p_scope text) returns text
language plpgsql as $$
declare
  t record;
  v_sql text := p_template;
begin
  for t in select * from targets where scope = p_scope loop
    v_sql := replace(v_sql, '{' || t.placeholder || '}', quote_literal(tests.id(t.key)) || '::uuid');
  end loop;
  return v_sql;
end
$$;
update matrix set statement = pg_temp.fill(template, scope);
grant all on matrix to public;

select is_empty($$select fn || ' ' || scope from matrix where statement ~ '\{[a-z_]+\}'$$, 'every case''s placeholders are filled');

do $$
declare
  m record;
  r record;
begin
  for m in select n, caller, statement from matrix order by n loop
    perform tests.authenticate_as(tests.id(m.caller));
    r := tests.try_call(m.statement);
    perform tests.reset_identity();
    update matrix set state = r.state, message = r.message, result = r.result, changed = r.changed where n = m.n;
  end loop;
end
$$;

select ok(
  case
    when expect_allowed and kind = 'read' then state is null and result::bigint > 0
    when expect_allowed then state is null and changed
    when kind = 'read' then state = any (deny_states) or (state is null and result::bigint = 0 and not changed)
    else state = any (deny_states)
  end,
  format('%s as %s on %s: %s', fn, role,
         case scope when 'own' then 'its own organization' when 'other' then 'another organization' else 'a soft-deleted target' end,
         case when expect_allowed then 'allowed' else 'refused' end))
  || case
       when (expect_allowed and kind = 'read' and state is null and result::bigint > 0)
         or (expect_allowed and kind = 'write' and state is null and changed)
         or (not expect_allowed and (state = any (deny_states) or (kind = 'read' and state is null and result::bigint = 0 and not changed)))
       then ''
       else E'\n' || diag(format('    got %s', coalesce(state || ': ' || message, 'success, ' || coalesce(result, 'no result') || ' row(s), changed: ' || changed)))
     end
from matrix order by n;

select * from finish();
rollback;
