-- 0095_text_length_limits: the free-text columns people type into get length limits.
--
-- Until now an organization could be named with 5,000 characters (or 5 MB): every list, audit
-- summary and email quoting it carried them. Each limit is a CHECK constraint, so it holds
-- whatever the path (an API function, a direct INSERT or UPDATE under RLS, a trigger), and each
-- constraint's name says the limit: a refused write is answered 23514 (the bridge: 400)
-- "… violates check constraint "organizations_name_at_most_255_characters"". Columns keep their
-- SMTA 0.8 type (text); names must still not be blank (0002). Lengths count characters, not
-- bytes. The limits:
--   names (organization, unit; a profile's first and last name)          1–255
--   role names (public.create_role already refused more, now every path) 1–100
--   descriptions (organization, unit, role)                             up to 10,000
--   an organization's address                                           up to 1,000
--   time zones and locales (organizations_meta, users_meta)             up to 64
--   a unit's notes                                                      up to 10,000
-- Existing rows are checked when the constraints are added: a database holding a longer value
-- stops this migration (rolled back, nothing changed) naming the constraint; shorten the value,
-- then migrate again.

alter table core.organizations
    add constraint organizations_name_at_most_255_characters check (pg_catalog.char_length(name) <= 255),
    add constraint organizations_description_at_most_10000_characters
        check (pg_catalog.char_length(description) <= 10000);

alter table core.units
    add constraint units_name_at_most_255_characters check (pg_catalog.char_length(name) <= 255),
    add constraint units_description_at_most_10000_characters
        check (pg_catalog.char_length(description) <= 10000);

alter table core.roles
    add constraint roles_name_at_most_100_characters check (pg_catalog.char_length(name) <= 100),
    add constraint roles_description_at_most_10000_characters
        check (pg_catalog.char_length(description) <= 10000);

alter table core.organizations_meta
    add constraint organizations_meta_address_at_most_1000_characters
        check (pg_catalog.char_length(address) <= 1000),
    add constraint organizations_meta_timezone_at_most_64_characters
        check (pg_catalog.char_length(timezone) <= 64),
    add constraint organizations_meta_locale_at_most_64_characters
        check (pg_catalog.char_length(locale) <= 64);

alter table core.unit_meta
    add constraint unit_meta_notes_at_most_10000_characters check (pg_catalog.char_length(notes) <= 10000);

alter table core.users_meta
    add constraint users_meta_first_name_at_most_255_characters check (pg_catalog.char_length(first_name) <= 255),
    add constraint users_meta_last_name_at_most_255_characters check (pg_catalog.char_length(last_name) <= 255),
    add constraint users_meta_timezone_at_most_64_characters check (pg_catalog.char_length(timezone) <= 64),
    add constraint users_meta_locale_at_most_64_characters check (pg_catalog.char_length(locale) <= 64);
