-- The platform.* functions are the operator's: the service role reaches them; acting for a
-- user, that user must be a platform user (reads) or a platform super_admin (writes); an
-- organization's own super_admin is no platform user. Settings, feature flags, overrides,
-- platform organizations and users, the action log and system events.
begin;
select plan(35);
select tests.world();

select tests.remember('operator', tests.create_user('operator@platform.test', 'Op', 'Erator'));
select tests.remember('viewer', tests.create_user('viewer@platform.test', 'Vi', 'Ewer'));
insert into platform.platform_users (user_id, email, role_id)
select tests.id('operator'), 'operator@platform.test', id from platform.platform_roles where name = 'super_admin';
insert into platform.platform_users (user_id, email, role_id)
select tests.id('viewer'), 'viewer@platform.test', id from platform.platform_roles where name = 'platform_viewer';
select tests.remember('viewer_role', (select id from platform.platform_roles where name = 'platform_viewer'));
select tests.remember('admin_role', (select id from platform.platform_roles where name = 'platform_admin'));

-- Settings
select tests.authenticate_service_role();
select lives_ok($$select platform.set_setting('maintenance_mode', 'true', 'Read-only mode')$$,
  'the service role sets a platform setting');
select is(platform.get_setting('maintenance_mode'), 'true', 'get_setting returns the value');
select ok(exists (select 1 from platform.list_settings() where key = 'maintenance_mode' and description = 'Read-only mode'),
  'list_settings lists it with its description');
select tests.authenticate_service_role(tests.id('viewer'));
select is(platform.get_setting('maintenance_mode'), 'true', 'a platform viewer reads settings');
select tests.refused($$select platform.set_setting('maintenance_mode', 'false')$$,
  'a platform viewer may not change settings', '{42501}');
select tests.refused($$select platform.delete_setting('maintenance_mode')$$,
  'a platform viewer may not delete settings', '{42501}');
select tests.authenticate_service_role(tests.id('owner_a'));
select tests.refused($$select platform.get_setting('maintenance_mode')$$,
  'acting for an organization''s super_admin, who is no platform user, reads nothing', '{42501}');
select tests.authenticate_service_role(tests.id('operator'));
select lives_ok($$select platform.delete_setting('maintenance_mode')$$, 'a platform super_admin deletes a setting');
select is(platform.get_setting('maintenance_mode'), null, 'the deleted setting is gone');

-- Feature flags
select tests.remember('flag', platform.create_platform_feature_flag('beta', '{"on": true}', tests.id('org_a'), 'Beta features'));
select isnt(tests.id('flag'), null, 'a platform super_admin creates an organization feature flag');
select results_eq(
  format($$select id, key, value, organization_id, is_active from platform.get_feature_flag('beta', %L)$$, tests.id('org_a')),
  format($$values (%L::uuid, 'beta', '{"on": true}'::jsonb, %L::uuid, true)$$, tests.id('flag'), tests.id('org_a')),
  'get_feature_flag returns the organization''s flag');
select ok(exists (select 1 from platform.list_feature_flags(tests.id('org_a')) where id = tests.id('flag')),
  'list_feature_flags lists it for the organization');
select lives_ok(format($$select platform.update_feature_flag(%L, '{"on": false}', false)$$, tests.id('flag')),
  'update_feature_flag changes value and activity');
select is((select is_active from platform.get_feature_flag('beta', tests.id('org_a'))), false, 'the flag is inactive');
select lives_ok(format('select platform.delete_feature_flag(%L)', tests.id('flag')), 'delete_feature_flag removes it');
select is_empty(format('select 1 from platform.list_feature_flags(%L) where id = %L', tests.id('org_a'), tests.id('flag')),
  'the deleted flag is no longer listed');
select tests.authenticate_service_role(tests.id('viewer'));
select tests.refused($$select platform.create_platform_feature_flag('gamma', '{}')$$,
  'a platform viewer may not create feature flags', '{42501}');

-- Overrides and platform organizations
select tests.authenticate_service_role(tests.id('operator'));
select lives_ok(format($$select platform.set_platform_override(%L, 'seats', '25')$$, tests.id('org_a')),
  'set_platform_override records an override for the organization');
select ok(tests.count_rows('platform.platform_subscription_overrides', jsonb_build_object('organization_id', tests.id('org_a'))) >= 1,
  'the override row exists');
select lives_ok(format($$select platform.delete_platform_override(%L, 'seats')$$, tests.id('org_a')),
  'delete_platform_override removes it');
select lives_ok(format('select platform.create_platform_organization(%L)', tests.id('org_a')),
  'create_platform_organization accepts an organization that already has its registry row');
select is(tests.count_rows('platform.platform_organizations', jsonb_build_object('id', tests.id('org_a'))), 1::bigint,
  'the organization still has exactly one platform registry row');

-- Platform users
select is(platform.get_platform_user_role(), 'super_admin', 'get_platform_user_role names the caller''s platform role');
select ok(platform.is_platform_super_admin(), 'is_platform_super_admin is true for a platform super_admin');
select tests.remember('new_pu', platform.create_platform_user(tests.id('stranger'), 'stranger@smta.test', tests.id('viewer_role')));
select isnt(tests.id('new_pu'), null, 'create_platform_user adds a platform user');
select lives_ok(format('select platform.update_platform_user(%L, %L)', tests.id('new_pu'), tests.id('admin_role')),
  'update_platform_user changes the platform role');
select is((select r ->> 'role_id' from tests.rows('platform.platform_users', jsonb_build_object('id', tests.id('new_pu'))) r),
  tests.id('admin_role')::text, 'the new platform role is stored');
select lives_ok(format($$select platform.update_platform_user_role(%L, 'platform_viewer')$$, tests.id('new_pu')),
  'update_platform_user_role changes the platform role by name');
select tests.authenticate_service_role(tests.id('stranger'));
select ok(platform.is_platform_user(), 'the new platform user is a platform user');
select ok(not platform.is_platform_super_admin(), 'but not a platform super_admin');
select tests.authenticate_service_role(tests.id('operator'));
select lives_ok(format('select platform.delete_platform_user(%L)', tests.id('new_pu')), 'delete_platform_user removes the platform user');
select tests.authenticate_service_role(tests.id('stranger'));
select ok(not platform.is_platform_user(), 'the removed platform user is no longer a platform user');

-- Events and the action log
select tests.authenticate_service_role(tests.id('operator'));
select lives_ok($$select platform.log_platform_event('deploy', 'Deployed 1.2.3', '{"version": "1.2.3"}')$$,
  'log_platform_event records a system event');
select lives_ok(format($$select platform.log_platform_action('inspect', 'core.organizations', %L, 'Looked at Org A', '{}')$$, tests.id('org_a')),
  'log_platform_action records an operator action');
select ok(exists (select 1 from platform.get_platform_action_log(100) where action_type = 'inspect' and target_id = tests.id('org_a')),
  'get_platform_action_log returns it');

select tests.reset_identity();
select * from finish();
rollback;
