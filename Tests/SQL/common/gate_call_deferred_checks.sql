-- core.gate_call runs the deferred constraint checks inside the call: a one-statement call
-- commits at the protocol's Sync, after its rows were written, so a deferred check failing there
-- would roll back a call whose client had already read its rows as a success. Inside the call,
-- its error is the call's error, and nothing of the call remains.
begin;

select plan(3);

select tests.world();

-- The service role clears the owner's super_admin flag: only the deferred check
-- (core.check_org_keeps_super_admin) refuses that.
select throws_like(
  format($$select core.gate_call('service_role', null, '{"role":"service_role"}', null, null, null, null, false, null,
      'with cleared as (update core.memberships set is_super_admin = false
                        where organization_id = ''%s'' and user_id = ''%s'' returning 1)
       select pg_catalog.to_json(pg_catalog.count(*)) from cleared', '{}')$$,
    tests.id('org_a'), tests.id('owner_a')),
  '%would be left without a super_admin%',
  'a deferred check fails inside the call, as the call''s error');
reset role;

select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')],
  'the refused call changed nothing: the owner is still the super_admin');

-- The same check, run inside the call, passes when the owner's row changes but stays super_admin.
select lives_ok(
  format($$select core.gate_call('service_role', null, '{"role":"service_role"}', null, null, null, null, false, null,
      'with touched as (update core.memberships set role_id = role_id
                        where organization_id = ''%s'' and user_id = ''%s'' returning 1)
       select pg_catalog.to_json(pg_catalog.count(*)) from touched', '{}')$$,
    tests.id('org_a'), tests.id('owner_a')),
  'a call that leaves the organization its super_admin runs, its deferred check passing inside it');
reset role;

select * from finish();
rollback;
