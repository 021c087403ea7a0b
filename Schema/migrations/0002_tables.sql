-- 0002_tables: every core and platform table of SMTA 0.8 with its constraints and indexes, plus
-- our additive columns (per-organization roles, nested units), and the three built-in roles.
-- Triggers come in 0004, row-level security and grants in 0005.
--
-- Conventions used throughout:
-- * ids are uuid v4 from the built-in gen_random_uuid() (no extension needed);
-- * "tracking" columns are created_by, updated_by, is_deleted, deleted_at, deleted_by,
--   created_at, updated_at; is_deleted, created_at and updated_at are NOT NULL so that
--   "not is_deleted" in a policy can never be null;
-- * names of constraints and indexes that SMTA 0.8 (or its test suite) uses are kept.

-- =============================================================================================
-- core
-- =============================================================================================

-- Tenants.
create table core.organizations (
    id uuid primary key default gen_random_uuid(),
    name text not null constraint organizations_name_not_blank check (btrim(name) <> ''),
    description text,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Roles carry CASL rules for the application. organization_id null = a global role (the
-- built-in ones); otherwise the role belongs to that organization only. name stays globally
-- unique, as in SMTA 0.8, whose fixtures upsert on it.
create table core.roles (
    id uuid primary key default gen_random_uuid(),
    name text not null constraint roles_name_key unique
        constraint roles_name_not_blank check (btrim(name) <> ''),
    description text,
    casl_rules jsonb constraint roles_casl_rules_is_array
        check (casl_rules is null or jsonb_typeof(casl_rules) = 'array'),
    organization_id uuid references core.organizations (id) on delete cascade,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index idx_roles_organization_id on core.roles (organization_id)
    where organization_id is not null;

-- Metadata of files kept in external object storage.
create table core.organization_files (
    id uuid primary key default gen_random_uuid(),
    file_url text not null,
    file_type text not null,
    file_specs jsonb,
    file_size integer constraint organization_files_file_size_not_negative
        check (file_size is null or file_size >= 0),
    organization_id uuid not null references core.organizations (id) on delete cascade,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- target of the composite key from organizations_meta (a logo must be the org's own file)
    constraint organization_files_id_organization_id_key unique (id, organization_id)
);

create index idx_organization_files_organization_id on core.organization_files (organization_id);

-- One row per organization (created by a trigger).
create table core.organizations_meta (
    id uuid primary key references core.organizations (id) on delete cascade,
    logo_file_id uuid,
    address text,
    timezone text,
    locale text,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- The logo is a file of the same organization; deleting the file clears only the logo.
    constraint organizations_meta_logo_file_id_fkey foreign key (logo_file_id, id)
        references core.organization_files (id, organization_id) on delete set null (logo_file_id)
);

create index idx_organizations_meta_logo_file_id on core.organizations_meta (logo_file_id)
    where logo_file_id is not null;

-- Units inside an organization; they may nest (parent_unit_id). The composite key keeps a
-- parent in the same organization; 0004 refuses cycles.
create table core.units (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references core.organizations (id) on delete cascade,
    parent_unit_id uuid,
    name text not null constraint units_name_not_blank check (btrim(name) <> ''),
    description text,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint units_id_organization_id_key unique (id, organization_id),
    constraint units_parent_unit_id_fkey foreign key (parent_unit_id, organization_id)
        references core.units (id, organization_id) on delete cascade,
    constraint units_not_own_parent check (parent_unit_id is distinct from id)
);

create index idx_units_organization_id on core.units (organization_id);
create index idx_units_parent_unit_id on core.units (parent_unit_id) where parent_unit_id is not null;

-- One row per unit (created by a trigger).
create table core.unit_meta (
    id uuid primary key references core.units (id) on delete cascade,
    notes text,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Organization memberships.
--
-- One membership per (user, organization), live or not: the plain unique constraint of SMTA
-- 0.8 is kept, because existing fixtures and applications write
-- "insert ... on conflict (user_id, organization_id)", which needs a non-partial unique index.
-- Re-adding a removed member therefore revives the soft-deleted row (the API functions do
-- this: update is_deleted = false and the new role) instead of inserting a second row, so a
-- removed member can always be re-added and history stays on one row. A second live row is
-- impossible by the same constraint.
create table core.memberships (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null,
    organization_id uuid not null references core.organizations (id) on delete cascade,
    role_id uuid not null references core.roles (id),
    is_super_admin boolean not null default false,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint memberships_user_id_organization_id_key unique (user_id, organization_id)
);

-- Exactly one live super_admin per organization at any time.
create unique index idx_one_super_admin_per_org on core.memberships (organization_id)
    where is_super_admin and not is_deleted;
-- The gate reads "which organizations does this user belong to": a covering index over live
-- rows answers it without touching the table.
create index idx_memberships_user_id on core.memberships (user_id)
    include (organization_id, role_id, is_super_admin) where not is_deleted;
create index idx_memberships_organization_id on core.memberships (organization_id);
create index idx_memberships_role_id on core.memberships (role_id);

-- Unit memberships. Same design as memberships: one row per (user, unit), revived on re-add.
create table core.unit_memberships (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null,
    unit_id uuid not null references core.units (id) on delete cascade,
    role_id uuid not null references core.roles (id),
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint unit_memberships_user_id_unit_id_key unique (user_id, unit_id)
);

create index idx_unit_memberships_user_id on core.unit_memberships (user_id)
    include (unit_id, role_id) where not is_deleted;
create index idx_unit_memberships_unit_id on core.unit_memberships (unit_id);
create index idx_unit_memberships_role_id on core.unit_memberships (role_id);

-- Invitations. token holds the lowercase hex SHA-256 of the raw token, never the raw token:
-- the raw token is handed out once by create_invitation / resend_invitation and looked up by
-- its hash. The format check makes storing a raw token impossible by mistake.
create table core.invitations (
    id uuid primary key default gen_random_uuid(),
    email text not null,
    organization_id uuid not null references core.organizations (id) on delete cascade,
    unit_id uuid,
    role_id uuid not null references core.roles (id),
    invited_by uuid not null,
    token text not null constraint invitations_token_key unique
        constraint invitations_token_is_sha256_hex check (token ~ '^[0-9a-f]{64}$'),
    expires_at timestamptz not null default (now() + interval '7 days'),
    status text not null default 'pending',
    accepted_at timestamptz,
    accepted_by uuid,
    metadata jsonb default '{}'::jsonb,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint valid_status check (status in ('pending', 'accepted', 'expired', 'cancelled')),
    constraint valid_email check (email ~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$'),
    -- a unit invitation names a unit of the same organization
    constraint invitations_unit_id_fkey foreign key (unit_id, organization_id)
        references core.units (id, organization_id) on delete cascade
);

create index idx_invitations_organization_id on core.invitations (organization_id);
create index idx_invitations_unit_id on core.invitations (unit_id) where unit_id is not null;
create index idx_invitations_role_id on core.invitations (role_id);
-- pending invitations by (case-insensitive) email: duplicate checks and the invitee's view
create index idx_invitations_email on core.invitations (lower(email))
    where status = 'pending' and not is_deleted;
-- (pending invitations by token are served by the unique index invitations_token_key)

-- Profile data of users, keyed by the adapter's user id.
create table core.users_meta (
    id uuid primary key,
    first_name text,
    last_name text,
    email text,
    avatar_url text,
    timezone text,
    locale text,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index idx_users_meta_email on core.users_meta (lower(email));

-- Append-only audit trail, written by triggers (0004). organization_id is null for rows that
-- belong to no organization (users_meta) or whose organization no longer exists.
create table core.audit_logs (
    id uuid primary key default gen_random_uuid(),
    actor_id uuid,
    organization_id uuid references core.organizations (id),
    target_table text not null,
    target_id uuid,
    action text not null,
    summary text,
    metadata jsonb,
    -- clock_timestamp(), not now(): each row carries the moment it was written, so the rows of
    -- one transaction (which share now()) keep their order in get_audit_log's newest-first
    -- listing (down to the clock's microsecond).
    created_at timestamptz not null default clock_timestamp()
);

create index idx_audit_logs_actor_id on core.audit_logs (actor_id);
-- get_audit_log(org, limit) reads the newest rows of one organization
create index idx_audit_logs_organization_id on core.audit_logs (organization_id, created_at desc);
create index idx_audit_logs_target_table on core.audit_logs (target_table);
create index idx_audit_logs_metadata on core.audit_logs using gin (metadata);

-- =============================================================================================
-- platform
-- =============================================================================================

create table platform.platform_roles (
    id uuid primary key default gen_random_uuid(),
    name text not null constraint platform_roles_name_key unique,
    description text,
    casl_rules jsonb,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table platform.platform_users (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null constraint platform_users_user_id_key unique,
    email text not null constraint platform_users_email_key unique,
    role_id uuid not null references platform.platform_roles (id),
    first_name text,
    last_name text,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index idx_platform_users_role_id on platform.platform_users (role_id);

-- The operator's record of each tenant: same id as core.organizations (created by a trigger).
create table platform.platform_organizations (
    id uuid primary key references core.organizations (id) on delete cascade,
    label text not null,
    notes text,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table platform.platform_action_logs (
    id uuid primary key default gen_random_uuid(),
    platform_user_id uuid references platform.platform_users (id) on delete set null,
    auth_user_id uuid references platform.platform_users (user_id),
    action_type text not null,
    target_table text,
    target_id uuid,
    summary text,
    metadata jsonb,
    created_at timestamptz not null default now()
);

create index idx_platform_action_logs_platform_user_id on platform.platform_action_logs (platform_user_id);
create index idx_platform_action_logs_auth_user_id on platform.platform_action_logs (auth_user_id);
create index idx_platform_action_logs_created_at on platform.platform_action_logs (created_at desc);

create table platform.platform_settings (
    key text primary key,
    value jsonb not null,
    description text,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Feature flags: global (organization_id null) or for one tenant.
create table platform.platform_feature_flags (
    id uuid primary key default gen_random_uuid(),
    key text not null,
    organization_id uuid references platform.platform_organizations (id) on delete cascade,
    description text,
    value jsonb not null,
    is_active boolean default true,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index idx_platform_feature_flags_organization_id on platform.platform_feature_flags (organization_id);
create index idx_platform_feature_flags_key on platform.platform_feature_flags (key);

create table platform.platform_subscription_overrides (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references platform.platform_organizations (id) on delete cascade,
    plan_override text not null,
    features jsonb not null,
    reason text not null,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index idx_platform_subscription_overrides_organization_id
    on platform.platform_subscription_overrides (organization_id);

create table platform.platform_system_events (
    id uuid primary key default gen_random_uuid(),
    event_type text not null,
    summary text,
    details jsonb,
    created_at timestamptz not null default now()
);

create index idx_platform_system_events_created_at on platform.platform_system_events (created_at desc);

-- The plans offered; paymentprocessor_price_id is the provider's price id.
create table platform.subscription_products (
    id uuid primary key default gen_random_uuid(),
    paymentprocessor_price_id text not null constraint subscription_products_paymentprocessor_price_id_key unique,
    name text not null,
    description text,
    billing_interval text not null,
    amount integer not null constraint subscription_products_amount_not_negative check (amount >= 0),
    is_active boolean default true,
    metadata jsonb,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- One billing customer per organization.
create table platform.billing_customers (
    organization_id uuid primary key references core.organizations (id) on delete cascade,
    provider_customer_id text not null constraint billing_customers_provider_customer_id_key unique,
    provider text not null default 'stripe'
        constraint billing_customers_provider_check check (provider in ('stripe', 'lemon_squeezy')),
    billing_email text,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Subscriptions, keyed for upserts by the provider's subscription id.
create table platform.billing_subscriptions (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references core.organizations (id) on delete cascade,
    provider_subscription_id text not null constraint billing_subscriptions_provider_subscription_id_key unique,
    provider text not null default 'stripe'
        constraint billing_subscriptions_provider_check check (provider in ('stripe', 'lemon_squeezy')),
    plan text not null,
    status text not null,
    current_period_end timestamptz,
    cancel_at_period_end boolean default false,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create index idx_billing_subscriptions_organization_id on platform.billing_subscriptions (organization_id);
create index idx_billing_subscriptions_status on platform.billing_subscriptions (status);

-- References to secrets held by the secrets provider (Vault or pgcrypto): never the secret.
create table platform.tenant_secrets (
    id uuid primary key default gen_random_uuid(),
    scope text not null constraint tenant_secrets_scope_check check (scope in ('organization', 'user')),
    organization_id uuid references core.organizations (id),
    user_id uuid,
    secret_name text not null,
    secret_ref text not null,
    is_active boolean default true,
    created_by uuid,
    updated_by uuid,
    is_deleted boolean not null default false,
    deleted_at timestamptz,
    deleted_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint tenant_secrets_owner_check check (
        (scope = 'organization' and organization_id is not null and user_id is null)
        or (scope = 'user' and user_id is not null and organization_id is null)
    )
);

create index idx_tenant_secrets_organization_id on platform.tenant_secrets (organization_id)
    where scope = 'organization';
create index idx_tenant_secrets_user_id on platform.tenant_secrets (user_id) where scope = 'user';

-- =============================================================================================
-- Built-in roles
-- =============================================================================================
-- The three global roles of SMTA 0.8, with its fixed ids. casl_rules describe, for the
-- application, what each role may do; the database itself only distinguishes the org's
-- super_admin and its managers (who may manage memberships) from other members.
insert into core.roles (id, name, description, casl_rules) values
    ('00000000-0000-0000-0000-000000000001', 'super_admin',
     'Owner of the organization, with every permission',
     '[{"action": "manage", "subject": "all"}]'),
    ('00000000-0000-0000-0000-000000000002', 'manager',
     'Manager: runs units, members and invitations',
     '[{"action": "read", "subject": ["Organization", "AuditLog"]},
       {"action": "manage", "subject": ["Unit", "UnitMember", "Member", "Invitation", "File"]}]'),
    ('00000000-0000-0000-0000-000000000003', 'team',
     'Team member: reads the organization and works in assigned units',
     '[{"action": "read", "subject": ["Organization", "Unit", "Member", "File"]}]')
on conflict do nothing;
