-- Defect 4 (invite_user_to_organization(p_email, p_role_id) added the user, uninvited, to an
-- arbitrary one of the caller's organizations): the legacy function never creates a
-- membership; at most it invites into the caller's only organization; when the caller belongs
-- to several organizations, or none, it refuses instead of guessing.
begin;
select plan(8);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));

-- A caller with exactly one organization: the call becomes a proper invitation there, or is
-- refused; either way nobody is added.
select tests.authenticate_as(tests.id('owner_b'));
create temporary table legacy_outcome (state text) on commit drop;
grant all on legacy_outcome to public;
do $$
begin
  begin
    perform public.invite_user_to_organization('stranger@smta.test', tests.id('team_role'));
    insert into legacy_outcome values ('ok');
  exception when others then
    insert into legacy_outcome values (sqlstate);
  end;
end
$$;
select tests.reset_identity();
select is(tests.count_rows('core.memberships', jsonb_build_object('user_id', tests.id('stranger'))), 0::bigint,
  'the legacy function added the existing user to no organization');
select is(tests.count_rows('core.invitations', jsonb_build_object('email', 'stranger@smta.test', 'organization_id', tests.id('org_a'))), 0::bigint,
  'it created nothing in an organization the caller is not in');
select ok(
  case (select state from legacy_outcome)
    when 'ok' then tests.count_rows('core.invitations', jsonb_build_object('email', 'stranger@smta.test', 'organization_id', tests.id('org_b'), 'status', 'pending')) = 1
    else tests.count_rows('core.invitations', jsonb_build_object('email', 'stranger@smta.test')) = 0
  end,
  'it either left one pending invitation in the caller''s only organization or was refused having created nothing');

-- A caller with two organizations: no guessing.
select tests.reset_identity();
select tests.add_member(tests.id('org_b'), tests.id('owner_a'), 'manager');
select tests.remember('someone', tests.create_user('someone@smta.test'));
select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format($$select public.invite_user_to_organization('someone@smta.test', %L)$$, tests.id('team_role')),
  'a caller in two organizations is refused rather than given an arbitrary one', '{P0001,22023,42501}');
select is(tests.count_rows('core.memberships', jsonb_build_object('user_id', tests.id('someone'))), 0::bigint,
  'the refused call added the user nowhere');
select is(tests.count_rows('core.invitations', jsonb_build_object('email', 'someone@smta.test')), 0::bigint,
  'the refused call invited the user nowhere');

-- A caller with no organization.
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format($$select public.invite_user_to_organization('someone@smta.test', %L)$$, tests.id('team_role')),
  'a caller in no organization is refused', '{P0001,42501,P0002}');
select is(tests.count_rows('core.memberships', jsonb_build_object('user_id', tests.id('someone'))), 0::bigint,
  'nothing was added');

select tests.reset_identity();
select * from finish();
rollback;
