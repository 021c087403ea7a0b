-- Every function of the SMTA 0.8 contract and of our extensions exists with the contract's
-- exact argument names and types, number of defaulted arguments and result columns
-- (smta-0.8.md; issues 2, 16 and 18 for the extensions; billing's optional trailing p_provider).
-- A null expected result means the contract names the function but not its result. A function
-- may extend its contract signature with trailing arguments that have defaults (every contract
-- call still works): those count towards the defaults.
begin;
select plan(136);

create temporary table expected_functions (
  schema_name text,
  function_name text,
  arguments text,
  result text,
  defaults int
) on commit drop;

insert into expected_functions values
  -- public: the API
  ('public', 'get_audit_log', 'p_org_id uuid, p_limit integer', 'table(id uuid, actor_id uuid, target_table text, target_id uuid, action text, summary text, metadata jsonb, created_at timestamptz)', 0),
  ('public', 'create_file', 'p_org_id uuid, p_file_url text, p_file_type text, p_file_size integer, p_file_specs jsonb', 'table(id uuid, organization_id uuid, file_url text, file_type text, created_at timestamptz)', 2),
  ('public', 'update_file_metadata', 'p_file_id uuid, p_file_specs jsonb, p_file_size integer', 'table(id uuid, file_url text, file_type text, updated_at timestamptz)', 2),
  ('public', 'get_file', 'p_file_id uuid', 'table(id uuid, organization_id uuid, file_url text, file_type text, created_at timestamptz, updated_at timestamptz)', 0),
  ('public', 'list_files', 'p_org_id uuid', 'table(id uuid, organization_id uuid, file_url text, file_type text, created_at timestamptz, updated_at timestamptz)', 0),
  ('public', 'delete_file', 'p_file_id uuid', 'void', 0),
  ('public', 'create_invitation', 'p_email text, p_organization_id uuid, p_role_id uuid, p_unit_id uuid, p_metadata jsonb', 'table(id uuid, token text, email text, expires_at timestamptz)', 2),
  ('public', 'accept_invitation', 'p_token text', 'table(organization_id uuid, unit_id uuid, role_id uuid, organization_name text)', 0),
  ('public', 'cancel_invitation', 'p_invitation_id uuid', 'void', 0),
  ('public', 'resend_invitation', 'p_invitation_id uuid', 'table(id uuid, token text, email text, expires_at timestamptz)', 0),
  ('public', 'list_invitations', 'p_organization_id uuid, p_status text', 'table(id uuid, email text, organization_id uuid, unit_id uuid, role_name text, role_label text, invited_by_email text, status text, expires_at timestamptz, created_at timestamptz)', 1),
  ('public', 'get_invitation_details', 'p_token text', 'table(id uuid, email text, organization_name text, unit_name text, role_name text, role_label text, invited_by_name text, expires_at timestamptz, status text)', 0),
  ('public', 'list_my_organizations', '', 'table(id uuid, name text, description text, role text, role_label text)', 0),
  ('public', 'get_organization', 'p_id uuid', 'table(id uuid, name text, description text, created_by uuid, updated_by uuid, is_deleted boolean, deleted_at timestamptz, deleted_by uuid, created_at timestamptz, updated_at timestamptz)', 0),
  -- with our trailing membership_id and expires_at (issue 16: expiring memberships)
  ('public', 'list_organization_members', 'p_id uuid', 'table(user_id uuid, email text, first_name text, last_name text, role text, role_label text, is_super_admin boolean, membership_id uuid, expires_at timestamptz)', 0),
  ('public', 'get_user_role', 'p_org_id uuid', 'text', 0),
  ('public', 'get_user_permissions', 'p_org_id uuid', 'table(role_name text, casl_rules jsonb)', 0),
  ('public', 'create_organization', 'p_name text, p_description text', 'table(id uuid, name text, created_at timestamptz)', 1),
  ('public', 'invite_user_to_organization', 'p_email text, p_role_id uuid', 'void', 0),
  ('public', 'remove_user_from_organization', 'p_user_id uuid, p_org_id uuid', 'void', 0),
  ('public', 'transfer_super_admin', 'p_org_id uuid, p_new_super_admin_user_id uuid', 'void', 0),
  ('public', 'update_organization', 'p_id uuid, p_name text, p_description text', 'table(id uuid, name text, description text, updated_at timestamptz)', 1),
  ('public', 'update_organization_meta', 'p_id uuid, p_logo_file_id uuid, p_address text, p_timezone text, p_locale text', 'table(id uuid, logo_file_id uuid, address text, timezone text, locale text, updated_at timestamptz)', 4),
  ('public', 'delete_organization', 'p_id uuid', 'void', 0),
  ('public', 'add_member_to_organization', 'p_org_id uuid, p_user_id uuid, p_role_id uuid', 'void', 0),
  ('public', 'update_member_role', 'p_org_id uuid, p_user_id uuid, p_role_id uuid', 'void', 0),
  ('public', 'remove_member_from_organization', 'p_org_id uuid, p_user_id uuid', 'void', 0),
  ('public', 'list_subscription_products', '', 'table(id uuid, name text, description text, billing_interval text, amount integer, created_at timestamptz, updated_at timestamptz, created_by uuid, updated_by uuid)', 0),
  ('public', 'create_secret', 'p_scope text, p_id uuid, p_name text, p_secret text', 'uuid', 0),
  ('public', 'delete_secret', 'p_secret_id uuid', 'void', 0),
  ('public', 'list_secrets', 'p_scope text, p_id uuid', 'table(id uuid, scope text, organization_id uuid, user_id uuid, secret_name text, created_at timestamptz, created_by uuid)', 2),
  ('public', 'list_my_units', '', 'table(id uuid, organization_id uuid, name text, role text, role_label text)', 0),
  ('public', 'get_unit', 'p_id uuid', 'table(id uuid, organization_id uuid, name text, description text, created_at timestamptz, updated_at timestamptz)', 0),
  ('public', 'list_unit_members', 'p_unit_id uuid', 'table(user_id uuid, email text, first_name text, last_name text, role text, role_label text)', 0),
  ('public', 'get_user_unit_permissions', 'p_unit_id uuid', 'table(role_name text, casl_rules jsonb)', 0),
  ('public', 'create_unit', 'p_org_id uuid, p_name text, p_description text, p_parent_unit_id uuid', 'table(id uuid, organization_id uuid, name text, description text, created_by uuid, updated_by uuid)', 2),
  ('public', 'assign_user_to_unit', 'p_user_id uuid, p_unit_id uuid, p_role_id uuid', 'void', 0),
  ('public', 'remove_user_from_unit', 'p_user_id uuid, p_unit_id uuid', 'void', 0),
  ('public', 'list_units', 'p_org_id uuid', 'table(id uuid, organization_id uuid, name text, description text, created_at timestamptz, updated_at timestamptz)', 0),
  ('public', 'update_unit', 'p_id uuid, p_name text, p_description text', 'table(id uuid, name text, description text, updated_at timestamptz)', 1),
  ('public', 'delete_unit', 'p_id uuid', 'void', 0),
  ('public', 'add_member_to_unit', 'p_unit_id uuid, p_user_id uuid, p_role_id uuid', 'void', 0),
  ('public', 'update_unit_member_role', 'p_unit_id uuid, p_user_id uuid, p_role_id uuid', 'void', 0),
  ('public', 'remove_member_from_unit', 'p_unit_id uuid, p_user_id uuid', 'void', 0),
  ('public', 'get_user_profile', '', 'table(id uuid, email text, first_name text, last_name text, avatar_url text, timezone text, locale text)', 0),
  ('public', 'update_user_profile', 'p_first_name text, p_last_name text', 'table(id uuid, email text, first_name text, last_name text, avatar_url text, timezone text, locale text)', 0),
  ('public', 'get_user_organizations', '', 'table(id uuid, name text, description text, role text, role_label text)', 0),
  ('public', 'get_user_units', 'p_org_id uuid', 'table(id uuid, organization_id uuid, name text, role text, role_label text)', 0),
  -- public: our extensions (issue 2)
  ('public', 'restore_organization', 'p_id uuid', null, 0),
  ('public', 'restore_unit', 'p_id uuid', null, 0),
  ('public', 'restore_file', 'p_file_id uuid', null, 0),
  ('public', 'leave_organization', 'p_org_id uuid', null, 0),
  ('public', 'create_role', 'p_org_id uuid, p_name text, p_description text, p_casl_rules jsonb', 'table(id uuid, organization_id uuid, name text, description text, casl_rules jsonb)', 2),
  ('public', 'list_roles', 'p_org_id uuid', 'table(id uuid, organization_id uuid, name text, description text, casl_rules jsonb)', 0),
  ('public', 'read_secret', 'p_secret_id uuid', 'text', 0),
  -- public: our extensions (issue 16: expiring memberships, invitation links, access history, domains; issue 18: SCIM tokens)
  ('public', 'create_invitation_link', 'p_org_id uuid, p_role_id uuid, p_max_uses integer, p_expires_at timestamptz, p_unit_id uuid, p_email_domain text', 'table(id uuid, token text, expires_at timestamptz)', 4),
  ('public', 'accept_invitation_link', 'p_token text', 'table(organization_id uuid, unit_id uuid, role_id uuid, organization_name text)', 0),
  ('public', 'revoke_invitation_link', 'p_link_id uuid', 'void', 0),
  ('public', 'set_membership_expiry', 'p_membership_id uuid, p_expires_at timestamptz', 'void', 0),
  ('public', 'get_access_history', 'p_org_id uuid, p_user_id uuid', 'table(occurred_at timestamptz, event text, unit_id uuid, role_name text, previous_role_name text, expires_at timestamptz, actor_id uuid)', 0),
  ('public', 'add_organization_domain', 'p_org_id uuid, p_domain text, p_role_id uuid', 'table(id uuid, domain text, verification_token text, record_name text)', 1),
  ('public', 'remove_organization_domain', 'p_domain_id uuid', 'void', 0),
  ('public', 'list_organization_domains', 'p_org_id uuid', 'table(id uuid, domain text, role_id uuid, role_name text, verified_at timestamptz, verification_token text, record_name text, created_at timestamptz)', 0),
  ('public', 'list_joinable_organizations', '', 'table(organization_id uuid, organization_name text, domain text, role_name text)', 0),
  ('public', 'join_organization_by_domain', 'p_org_id uuid', 'table(organization_id uuid, role_id uuid, organization_name text)', 0),
  ('public', 'create_scim_token', 'p_org_id uuid, p_label text', 'table(id uuid, token text, label text, created_at timestamptz)', 0),
  ('public', 'list_scim_tokens', 'p_org_id uuid', 'table(id uuid, label text, created_at timestamptz, created_by uuid, last_used_at timestamptz, revoked_at timestamptz)', 0),
  ('public', 'revoke_scim_token', 'p_token_id uuid', 'void', 0),
  ('public', 'claim_provisioned_memberships', 'p_within_verified_domains boolean, p_organization_id uuid', 'table(organization_id uuid, organization_name text, role text)', 2),
  ('public', 'list_provisioned_memberships', '', 'table(organization_id uuid, organization_name text, role text)', 0),
  ('public', 'list_invitation_links', 'p_org_id uuid', 'table(id uuid, organization_id uuid, unit_id uuid, role_id uuid, role_name text, max_uses integer, use_count integer, expires_at timestamptz, email_domain text, status text, created_by uuid, created_at timestamptz, revoked_at timestamptz)', 0),
  -- platform
  ('platform', 'authenticate_scim_token', 'p_token text', 'table(token_id uuid, organization_id uuid, label text)', 0),
  -- the bridge's SCIM endpoints (issue 18)
  ('platform', 'scim_users_pending', 'p_email text', 'boolean', 0),
  ('platform', 'scim_users', 'p_token_id uuid', 'setof core.scim_user_resource', 0),
  ('platform', 'scim_get_user', 'p_token_id uuid, p_id uuid', 'setof core.scim_user_resource', 0),
  ('platform', 'scim_create_user', 'p_token_id uuid, p_user jsonb', 'setof core.scim_user_resource', 0),
  ('platform', 'scim_replace_user', 'p_token_id uuid, p_id uuid, p_user jsonb, p_if_version integer', 'setof core.scim_user_resource', 1),
  ('platform', 'scim_update_user', 'p_token_id uuid, p_id uuid, p_changes jsonb, p_if_version integer', 'setof core.scim_user_resource', 1),
  ('platform', 'scim_delete_user', 'p_token_id uuid, p_id uuid, p_if_version integer', 'void', 1),
  ('platform', 'scim_groups', 'p_token_id uuid', 'setof core.scim_group_resource', 0),
  ('platform', 'scim_get_group', 'p_token_id uuid, p_id uuid', 'setof core.scim_group_resource', 0),
  ('platform', 'scim_create_group', 'p_token_id uuid, p_display_name text, p_external_id text, p_member_ids uuid[]', 'setof core.scim_group_resource', 2),
  ('platform', 'scim_replace_group', 'p_token_id uuid, p_id uuid, p_display_name text, p_external_id text, p_member_ids uuid[], p_if_version integer', 'setof core.scim_group_resource', 3),
  ('platform', 'scim_update_group', 'p_token_id uuid, p_id uuid, p_changes jsonb, p_if_version integer', 'setof core.scim_group_resource', 1),
  ('platform', 'scim_add_group_members', 'p_token_id uuid, p_id uuid, p_ids uuid[], p_if_version integer', 'setof core.scim_group_resource', 1),
  ('platform', 'scim_remove_group_members', 'p_token_id uuid, p_id uuid, p_ids uuid[], p_if_version integer', 'setof core.scim_group_resource', 1),
  ('platform', 'scim_delete_group', 'p_token_id uuid, p_id uuid, p_if_version integer', 'void', 1),
  ('platform', 'list_pending_organization_domains', '', 'table(id uuid, organization_id uuid, domain text, record_name text, record_value text)', 0),
  ('platform', 'verify_organization_domain', 'p_domain_id uuid', 'void', 0),
  ('platform', 'get_platform_user_role', '', 'text', 0),
  ('platform', 'get_platform_action_log', 'p_limit integer', 'table(id uuid, platform_user_id uuid, action_type text, target_table text, target_id uuid, summary text, metadata jsonb, created_at timestamptz)', 1),
  ('platform', 'link_paymentprocessor_customer', 'p_org_id uuid, p_paymentprocessor_customer_id text, p_billing_email text', 'void', 0),
  ('platform', 'record_subscription_update', 'p_org_id uuid, p_paymentprocessor_subscription_id text, p_plan text, p_status text, p_current_period_end timestamptz, p_cancel_at_period_end boolean', 'void', 0),
  ('platform', 'log_platform_event', 'p_event_type text, p_message text, p_metadata jsonb', 'void', 0),
  ('platform', 'create_platform_feature_flag', 'p_key text, p_value jsonb, p_organization_id uuid, p_description text', 'uuid', 2),
  ('platform', 'get_feature_flag', 'p_key text, p_organization_id uuid', 'table(id uuid, key text, value jsonb, organization_id uuid, description text, is_active boolean)', 1),
  ('platform', 'list_feature_flags', 'p_organization_id uuid, p_include_global boolean', 'table(id uuid, key text, value jsonb, organization_id uuid, description text, is_active boolean, created_at timestamptz)', 2),
  ('platform', 'update_feature_flag', 'p_id uuid, p_value jsonb, p_is_active boolean, p_description text', 'void', 3),
  ('platform', 'delete_feature_flag', 'p_id uuid', 'void', 0),
  ('platform', 'log_platform_action', 'p_action text, p_target_table text, p_target_id uuid, p_summary text, p_metadata jsonb', 'void', 0),
  ('platform', 'create_platform_organization', 'p_organization_id uuid', 'void', 0),
  ('platform', 'set_platform_override', 'p_organization_id uuid, p_key text, p_value jsonb', 'void', 0),
  ('platform', 'delete_platform_override', 'p_organization_id uuid, p_key text', 'void', 0),
  ('platform', 'list_all_subscription_products', '', 'table(id uuid, paymentprocessor_price_id text, name text, description text, billing_interval text, amount integer, is_active boolean, metadata jsonb, created_by uuid, updated_by uuid, is_deleted boolean, deleted_at timestamptz, deleted_by uuid, created_at timestamptz, updated_at timestamptz)', 0),
  ('platform', 'add_subscription_product', 'p_paymentprocessor_price_id text, p_name text, p_description text, p_billing_interval text, p_amount integer, p_is_active boolean, p_metadata jsonb', 'table(id uuid, paymentprocessor_price_id text, name text, description text, billing_interval text, amount integer, is_active boolean, metadata jsonb, created_by uuid, updated_by uuid, is_deleted boolean, deleted_at timestamptz, deleted_by uuid, created_at timestamptz, updated_at timestamptz)', 0),
  ('platform', 'get_setting', 'p_key text', 'text', 0),
  ('platform', 'list_settings', '', 'table(key text, value jsonb, description text, created_at timestamptz, updated_at timestamptz)', 0),
  ('platform', 'set_setting', 'p_key text, p_value jsonb, p_description text', 'void', 1),
  ('platform', 'delete_setting', 'p_key text', 'void', 0),
  ('platform', 'create_platform_user', 'p_user_id uuid, p_email text, p_role_id uuid', 'uuid', 0),
  ('platform', 'create_platform_user', 'p_user_id uuid, p_role text', 'uuid', 0),
  ('platform', 'update_platform_user', 'p_user_id uuid, p_role_id uuid', 'void', 0),
  ('platform', 'update_platform_user_role', 'p_user_id uuid, p_role text', 'void', 0),
  ('platform', 'delete_platform_user', 'p_user_id uuid', 'void', 0),
  ('platform', 'is_platform_user', '', 'boolean', 0),
  ('platform', 'is_platform_super_admin', '', 'boolean', 0),
  ('platform', 'ensure_platform_user', '', 'void', 0),
  ('platform', 'ensure_platform_admin', '', 'void', 0),
  ('platform', 'rotate_secrets_key', 'p_old_key text, p_new_key text', 'integer', 0),
  -- core: identity, membership helpers, secret hooks, audit
  ('core', 'get_current_user_id', '', 'uuid', 0),
  ('core', 'get_current_user_email', '', 'text', 0),
  ('core', 'is_super_admin', 'p_org_id uuid', 'boolean', 0),
  ('core', 'is_org_member', 'p_org_id uuid', 'boolean', 0),
  ('core', 'is_unit_member', 'p_unit_id uuid', 'boolean', 0),
  ('core', 'is_org_super_admin_for_unit', 'p_unit_id uuid', 'boolean', 0),
  ('core', 'is_org_member_for_unit', 'p_unit_id uuid', 'boolean', 0),
  ('core', 'get_org_role', 'p_org_id uuid', 'text', 0),
  ('core', 'get_org_id_for_unit', 'p_unit_id uuid', 'uuid', 0),
  ('core', 'has_org_role', 'p_org_id uuid, p_role text', 'boolean', 0),
  ('core', 'has_unit_role', 'p_unit_id uuid, p_role text', 'boolean', 0),
  ('core', 'shares_organization', 'p_user_id uuid', 'boolean', 0),
  ('core', 'store_secret_impl', 'p_secret text, p_name text', 'text', 1),
  ('core', 'read_secret_impl', 'p_secret_ref text', 'text', 0),
  ('core', 'delete_secret_impl', 'p_secret_ref text', 'void', 0),
  ('core', 'log_audit', 'action_type text, target_table text, target_id uuid, summary text, metadata jsonb', null, 0);

-- The catalogue, in the same spelling as the expectations; extra = the number of arguments
-- beyond the contract's.
create temporary view actual_functions as
select n.nspname as schema_name,
       p.proname as function_name,
       replace(pg_get_function_identity_arguments(p.oid), 'timestamp with time zone', 'timestamptz') as arguments,
       lower(replace(pg_get_function_result(p.oid), 'timestamp with time zone', 'timestamptz')) as result,
       p.pronargs::int as nargs,
       p.pronargdefaults::int as defaults
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace;

create temporary view matched_functions as
select e.*, a.result as actual_result, a.defaults as actual_defaults,
       a.nargs - coalesce(array_length(string_to_array(nullif(e.arguments, ''), ', '), 1), 0) as extra
from expected_functions e
left join actual_functions a
  on a.schema_name = e.schema_name and a.function_name = e.function_name
 and (a.arguments = e.arguments or (e.arguments <> '' and a.arguments like e.arguments || ', %')
      or (e.arguments = '' and a.nargs = a.defaults));

select is(
  m.actual_result || ' / defaults ' || (m.actual_defaults - m.extra),
  coalesce(m.result, m.actual_result, '(any result)') || ' / defaults ' || m.defaults,
  format('%s.%s(%s) exists with the contract''s result and %s default(s)',
         m.schema_name, m.function_name, m.arguments, m.defaults))
from matched_functions m
order by m.schema_name desc, m.function_name, m.arguments;

-- PostgREST calls functions by argument name: two functions of one name in public would make
-- such calls ambiguous (e.g. a leftover 3-argument create_unit beside the 4-argument one).
select is_empty(
  $$select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public'
      and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
    group by p.proname having count(*) > 1$$,
  'no public function of ours is overloaded');

select * from finish();
rollback;
