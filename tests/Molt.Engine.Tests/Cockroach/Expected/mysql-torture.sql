-- crdb_torture.Torture -> public.Torture
--   tm: time(6) -> INTERVAL as interval, converted (MySQL TIME spans -838:59:59 to 838:59:59)
--   e: enum('small','Large','it''s') -> TEXT as text, converted (with a CHECK of the ENUM's members)
--   st: set('a','b','c') -> TEXT as text, converted (members comma-separated, as MySQL returns them)
CREATE SCHEMA IF NOT EXISTS "public";
DROP TABLE IF EXISTS "public"."Torture";
CREATE TABLE "public"."Torture" ("id" INT4 NOT NULL, "ti" INT2, "tu" INT2, "si" INT2, "su" INT4, "mi" INT4, "mu" INT4, "i" INT4, "iu" INT8, "bi" INT8, "bu" DECIMAL(20,0), "flag" INT2, "d" DECIMAL(65,30), "dm" DECIMAL(5,2), "f" FLOAT4, "db" FLOAT8, "b" VARBIT(10), "y" INT2, "dt" DATE, "dtm" TIMESTAMP(6), "ts" TIMESTAMPTZ(6), "tm" INTERVAL, "c" VARCHAR(4), "vc" VARCHAR(20), "l1" VARCHAR(20), "tx" TEXT, "bin" BYTEA, "vb" BYTEA, "bl" BYTEA, "e" TEXT, "st" TEXT, "j" JSONB, PRIMARY KEY ("id"));
TRUNCATE TABLE "public"."Torture";
COPY "public"."Torture" ("id", "ti", "tu", "si", "su", "mi", "mu", "i", "iu", "bi", "bu", "flag", "d", "dm", "f", "db", "b", "y", "dt", "dtm", "ts", "tm", "c", "vc", "l1", "tx", "bin", "vb", "bl", "e", "st", "j") FROM STDIN WITH BINARY;
IMPORT INTO "public"."Torture" ("id", "ti", "tu", "si", "su", "mi", "mu", "i", "iu", "bi", "bu", "flag", "d", "dm", "f", "db", "b", "y", "dt", "dtm", "ts", "tm", "c", "vc", "l1", "tx", "bin", "vb", "bl", "e", "st", "j") CSV DATA ('http://molt-host:3000/run/Torture.0.csv') WITH nullif = '\N';
ALTER TABLE "public"."Torture" ADD CONSTRAINT "Torture_e_enum" CHECK ("e" IN ('small', 'Large', 'it''s'));
ALTER TABLE "public"."Torture" ADD CONSTRAINT "Torture_st_set" CHECK ("st" = '' OR "st" ~ '^(a|b|c)(,(a|b|c))*$');
UPSERT INTO "public"."Torture" ("id", "ti", "tu", "si", "su", "mi", "mu", "i", "iu", "bi", "bu", "flag", "d", "dm", "f", "db", "b", "y", "dt", "dtm", "ts", "tm", "c", "vc", "l1", "tx", "bin", "vb", "bl", "e", "st", "j") VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6, @p7, @p8, @p9, @p10, @p11, @p12, @p13, @p14, @p15, @p16, @p17, @p18, @p19, @p20, @p21, @p22, @p23, @p24, @p25, @p26, @p27, @p28, @p29, @p30, @p31), (@p32, @p33, @p34, @p35, @p36, @p37, @p38, @p39, @p40, @p41, @p42, @p43, @p44, @p45, @p46, @p47, @p48, @p49, @p50, @p51, @p52, @p53, @p54, @p55, @p56, @p57, @p58, @p59, @p60, @p61, @p62, @p63);
DELETE FROM "public"."Torture" WHERE ("id") IN ((@p0), (@p1));

