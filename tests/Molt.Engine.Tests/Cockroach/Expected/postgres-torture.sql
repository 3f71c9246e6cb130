-- public.Torture Table -> public.Torture Table
--   m: money -> DECIMAL as numeric, converted (MONEY becomes DECIMAL: the amount is kept, its currency formatting is not)
--   j: json -> JSONB as jsonb, converted (JSON becomes JSONB: key order, duplicate keys and whitespace are normalised)
--   x: xml -> TEXT as text, converted (xml, which CockroachDB lacks, is kept in its text form)
--   cidr_: cidr -> INET as inet, converted (CIDR becomes INET (CockroachDB has no CIDR); address and mask are kept)
--   mac: macaddr -> TEXT as text, converted (macaddr, which CockroachDB lacks, is kept in its text form)
--   po: positive -> INT4 as integer (domain public.positive becomes its base type; its constraints are not copied)
--   i4r: int4range -> TEXT as text, converted (a range (int4range), which CockroachDB lacks, is kept in its text form)
--   pt: point -> TEXT as text, converted (point, which CockroachDB lacks, is kept in its text form)
CREATE SCHEMA IF NOT EXISTS "public";
CREATE TYPE IF NOT EXISTS "public"."mood" AS ENUM ('sad', 'ok', 'happy');
DROP TABLE IF EXISTS "public"."Torture Table";
CREATE TABLE "public"."Torture Table" ("id" INT8 NOT NULL, "s" INT2, "i" INT4, "b" INT8, "n" DECIMAL(38,10), "nu" DECIMAL, "r" FLOAT4, "d" FLOAT8, "m" DECIMAL, "t" TEXT, "vc" VARCHAR(20), "c" CHAR(5), "MixedCase" TEXT, "by" BYTEA, "bo" BOOL, "da" DATE, "ti" TIME(6), "tz" TIMETZ, "ts" TIMESTAMP(6), "tstz" TIMESTAMPTZ, "iv" INTERVAL, "u" UUID, "j" JSONB, "jb" JSONB, "x" TEXT, "inet_" INET, "cidr_" INET, "mac" TEXT, "bi" BIT(4), "vb" VARBIT(8), "ia" INT4[], "ta" TEXT[], "mo" "public"."mood", "po" INT4, "i4r" TEXT, "pt" TEXT, "tsv" TSVECTOR, "ol" OID, PRIMARY KEY ("id"));
TRUNCATE TABLE "public"."Torture Table";
COPY "public"."Torture Table" ("id", "s", "i", "b", "n", "nu", "r", "d", "m", "t", "vc", "c", "MixedCase", "by", "bo", "da", "ti", "tz", "ts", "tstz", "iv", "u", "j", "jb", "x", "inet_", "cidr_", "mac", "bi", "vb", "ia", "ta", "mo", "po", "i4r", "pt", "tsv", "ol") FROM STDIN WITH BINARY;
IMPORT INTO "public"."Torture Table" ("id", "s", "i", "b", "n", "nu", "r", "d", "m", "t", "vc", "c", "MixedCase", "by", "bo", "da", "ti", "tz", "ts", "tstz", "iv", "u", "j", "jb", "x", "inet_", "cidr_", "mac", "bi", "vb", "ia", "ta", "mo", "po", "i4r", "pt", "tsv", "ol") CSV DATA ('http://molt-host:3000/run/Torture Table.0.csv') WITH nullif = '\N';
UPSERT INTO "public"."Torture Table" ("id", "s", "i", "b", "n", "nu", "r", "d", "m", "t", "vc", "c", "MixedCase", "by", "bo", "da", "ti", "tz", "ts", "tstz", "iv", "u", "j", "jb", "x", "inet_", "cidr_", "mac", "bi", "vb", "ia", "ta", "mo", "po", "i4r", "pt", "tsv", "ol") VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14, @p15, @p16, @p17, @p18, @p19, @p20, @p21, @p22, @p23, @p24, @p25, @p26, @p27, @p28, @p29, @p30, @p31, @p32, @p33, @p34, @p35, @p36, @p37), (@p38, @p39, @p40, @p41, @p42, @p43, @p44, @p45, @p46, @p47, @p48, @p49, @p50, @p51, @p52, @p53, @p54, @p55, @p56, @p57, @p58, @p59, @p60, @p61, @p62, @p63, @p64, @p65, @p66, @p67, @p68, @p69, @p70, @p71, @p72, @p73, @p74, @p75);
DELETE FROM "public"."Torture Table" WHERE ("id") IN ((@p0), (@p1));

