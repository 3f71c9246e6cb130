namespace Molt.Engine.Tests;

/// <summary>The type-torture tables: every column type the sources are tested with, for the load and the dialect tests.</summary>
internal static class TortureTables
{
    /// <summary>PostgreSQL: an enum, a domain and table "Torture Table" with every built-in type family.</summary>
    public const string Postgres = """
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
        CREATE TABLE "Torture Table" (
          id bigint PRIMARY KEY, s smallint, i integer, b bigint, n numeric(38,10), nu numeric, r real, d double precision,
          m money, t text, vc varchar(20), c char(5), "MixedCase" text, by bytea, bo boolean, da date, ti time(6), tz timetz,
          ts timestamp(6), tstz timestamptz, iv interval, u uuid, j json, jb jsonb, x xml, inet_ inet, cidr_ cidr, mac macaddr,
          bi bit(4), vb varbit(8), ia integer[], ta text[], mo mood, po positive, i4r int4range, pt point, tsv tsvector, ol oid);
        """;

    /// <summary>Three rows of "Torture Table": the extremes of every type, zeros, empties and infinities, and all NULLs.</summary>
    public const string PostgresRows = """
        INSERT INTO "Torture Table" VALUES
          (1, 32767, 2147483647, 9223372036854775807, 1234567890123456789012345678.0123456789, 1e-30, 3.4e38, 1.7976931348623157e308,
           92233720368547758.07, 'héllo 😀 "quoted" \ back', 'x', 'ab', 'Case', '\x00ff00'::bytea, true, '4713-01-01 BC', '23:59:59.999999',
           '12:00+05:30', '294276-12-31 23:59:59.999999', '1970-01-01 00:00:00+00', '-178000000 years', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
           '{"a": [1, 2]}', '{"b": {"c": null}}', '<a>x</a>', '::1', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'101', '{1,NULL,3}',
           '{"a b",NULL,""}', 'happy', 7, '[1,10)', '(1.5,-2)', 'a fat cat', 4294967295),
          (2, -32768, -2147483648, -9223372036854775808, -0.0000000001, 'NaN', '-Infinity', 'Infinity', -92233720368547758.08, '', '', '',
           NULL, ''::bytea, false, 'infinity', '00:00', '00:00-12', '-infinity', 'infinity', '0', '00000000-0000-0000-0000-000000000000',
           'null', '[]', '<b/>', '0.0.0.0', '::/0', 'ff:ff:ff:ff:ff:ff', B'0000', B'', '{}', '{}', 'sad', 1, 'empty', '(0,0)', '', 0),
          (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        """;

    /// <summary>MySQL/MariaDB: table `Torture` with every type, signed and unsigned.</summary>
    public const string MySql = """
        CREATE TABLE `Torture` (
          id INT PRIMARY KEY, ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, su SMALLINT UNSIGNED, mi MEDIUMINT, mu MEDIUMINT UNSIGNED,
          i INT, iu INT UNSIGNED, bi BIGINT, bu BIGINT UNSIGNED, flag TINYINT(1), d DECIMAL(65,30), dm DECIMAL(5,2), f FLOAT, db DOUBLE,
          b BIT(10), y YEAR, dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(6), c CHAR(4), vc VARCHAR(20) CHARACTER SET utf8mb4,
          l1 VARCHAR(20) CHARACTER SET latin1, tx TEXT, bin BINARY(4), vb VARBINARY(10), bl BLOB, e ENUM('small','Large','it''s'),
          st SET('a','b','c'), j JSON) ENGINE=InnoDB;
        """;

    /// <summary>Three rows of `Torture`: the extremes of every type, zeros and empties, and all NULLs.</summary>
    public const string MySqlRows = """
        INSERT INTO `Torture` VALUES
          (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615, 2,
           12345678901234567.0123456789, -999.99, 3.5, 1.7976931348623157e308, b'1000000001', 2155, '9999-12-31', '1000-01-01 00:00:00.000001',
           '2038-01-19 03:14:07.999999', '-838:59:59.000000', 'ab', 'héllo 😀', 'café', 'line1\nline2', 'a\0b', 0x00FF00, 0x000102030405,
           'it''s', 'a,c', '{"k": [1, 2.5, null], "e": "😀"}'),
          (2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', 1901, '1000-01-01', '9999-12-31 23:59:59.999999', '1970-01-02 00:00:01',
           '838:59:59.000000', '', '', '', '', '', '', '', 'small', '', '[]'),
          (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
           NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
        """;
}
