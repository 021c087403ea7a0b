-- Defect 11 (soft-delete functions running as the caller failed, because the deleted row no
-- longer passes the SELECT policy): every function that soft-deletes works for an ordinary
-- authenticated caller. Each case checks the row was live before and is marked deleted after,
-- so a call that matched nothing cannot pass.
begin;
select plan(30);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select set_config('app.secrets_key', 'test-key-0123456789abcdef0123456789', true);

select tests.authenticate_as(tests.id('owner_a'));
select tests.remember('inv', id) from public.create_invitation('doomed@smta.test', tests.id('org_a'), tests.id('team_role'));
select tests.remember('secret', public.create_secret('organization', tests.id('org_a'), 'doomed', 'doomed-value'));
select tests.remember('extra_org', id) from public.create_organization('Doomed Org');

create temporary table cases (n int, name text, caller text, call text, target_table text, target_key text, member_of text)
  on commit drop;
insert into cases values
  (1, 'delete_file', 'team_a', format('select public.delete_file(%L)', tests.id('file_a')), 'core.organization_files', 'file_a', null),
  (2, 'delete_unit', 'owner_a', format('select public.delete_unit(%L)', tests.id('unit_a2')), 'core.units', 'unit_a2', null),
  (3, 'remove_member_from_organization', 'owner_a', format('select public.remove_member_from_organization(%L, %L)', tests.id('org_a'), tests.id('member_a')), 'core.memberships', 'member_a', 'org_a'),
  (4, 'remove_user_from_organization', 'owner_a', format('select public.remove_user_from_organization(%L, %L)', tests.id('loner_a'), tests.id('org_a')), 'core.memberships', 'loner_a', 'org_a'),
  (5, 'leave_organization', 'team_a', format('select public.leave_organization(%L)', tests.id('org_a')), 'core.memberships', 'team_a', 'org_a'),
  (6, 'remove_member_from_unit', 'owner_b', format('select public.remove_member_from_unit(%L, %L)', tests.id('unit_b1'), tests.id('member_b')), 'core.unit_memberships', 'member_b', 'unit_b1'),
  (7, 'remove_user_from_unit', 'owner_b', format('select public.remove_user_from_unit(%L, %L)', tests.id('team_b'), tests.id('unit_b1')), 'core.unit_memberships', 'team_b', 'unit_b1'),
  (8, 'cancel_invitation', 'owner_a', format('select public.cancel_invitation(%L)', tests.id('inv')), 'core.invitations', 'inv', null),
  (9, 'delete_secret', 'owner_a', format('select public.delete_secret(%L)', tests.id('secret')), 'platform.tenant_secrets', 'secret', null),
  (10, 'delete_organization', 'owner_a', format('select public.delete_organization(%L)', tests.id('extra_org')), 'core.organizations', 'extra_org', null);
grant select on cases to public;

-- Whether the case's target row is live (for invitations: pending).
create function pg_temp.target_live(c cases) returns boolean
language sql as $$
  select case
    when c.target_table = 'core.memberships' then tests.membership_state(tests.id(c.member_of), tests.id(c.target_key)) = 'live'
    when c.target_table = 'core.unit_memberships' then tests.unit_membership_state(tests.id(c.member_of), tests.id(c.target_key)) = 'live'
    when c.target_table = 'core.invitations' then tests.row_json(c.target_table::regclass, tests.id(c.target_key)) ->> 'status' = 'pending'
    else (tests.row_json(c.target_table::regclass, tests.id(c.target_key)) ->> 'is_deleted')::boolean is false
  end
$$;
-- Whether it is kept and marked (deleted, or cancelled).
create function pg_temp.target_marked(c cases) returns boolean
language sql as $$
  select case
    when c.target_table = 'core.memberships' then tests.membership_state(tests.id(c.member_of), tests.id(c.target_key)) = 'deleted'
    when c.target_table = 'core.unit_memberships' then tests.unit_membership_state(tests.id(c.member_of), tests.id(c.target_key)) = 'deleted'
    when c.target_table = 'core.invitations' then tests.row_json(c.target_table::regclass, tests.id(c.target_key)) ->> 'status' = 'cancelled'
    else (tests.row_json(c.target_table::regclass, tests.id(c.target_key)) ->> 'is_deleted')::boolean
  end
$$;

create temporary table results (n int, before_live boolean, outcome text, after_marked boolean) on commit drop;
grant all on results to public;
do $$
declare
  c cases;
  v_state text;
  v_message text;
begin
  for c in select * from cases order by n loop
    insert into results (n, before_live) values (c.n, pg_temp.target_live(c));
    perform tests.authenticate_as(tests.id(c.caller));
    begin
      execute c.call;
      v_state := null;
    exception when others then
      v_state := sqlstate;
      v_message := sqlerrm;
    end;
    perform tests.reset_identity();
    update results set outcome = coalesce(v_state || ': ' || v_message, 'ok'), after_marked = pg_temp.target_marked(c)
     where n = c.n;
  end loop;
end
$$;

select tests.reset_identity();
select ok(r.before_live, format('%s: precondition, the target is live', c.name)) from cases c join results r using (n) order by n;
select is(r.outcome, 'ok', format('%s succeeds for a %s caller', c.name, c.caller)) from cases c join results r using (n) order by n;
select ok(r.after_marked, format('%s leaves the row in place, marked', c.name)) from cases c join results r using (n) order by n;

select * from finish();
rollback;
