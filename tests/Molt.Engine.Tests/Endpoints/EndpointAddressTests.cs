using System.Net;
using Molt.Engine.Endpoints.PgWire;
using Molt.Engine;
using Molt.Engine.Endpoints;
using Molt.Engine.Endpoints.MySql;
using Molt.Engine.Endpoints.Postgres;

namespace Molt.Engine.Tests.Endpoints;

public sealed class EndpointAddressTests
{
    [Theory]
    [InlineData("postgres://u:p@db.example:6543/shop?sslmode=disable", EndpointKind.Postgres, "db.example", 6543, "shop")]
    [InlineData("postgresql://u@db/shop", EndpointKind.Postgres, "db", 5432, "shop")]
    [InlineData("cockroachdb://root@crdb:26257/defaultdb?sslmode=verify-full", EndpointKind.CockroachDb, "crdb", 26257, "defaultdb")]
    [InlineData("cockroachdb://root@crdb", EndpointKind.CockroachDb, "crdb", 26257, "defaultdb")]
    [InlineData("mysql://u:p@127.0.0.1:3307/sakila", EndpointKind.MySql, "127.0.0.1", 3307, "sakila")]
    [InlineData("mysql://u:p@tcp(10.0.0.5:3306)/sakila", EndpointKind.MySql, "10.0.0.5", 3306, "sakila")]
    [InlineData("mariadb://u@[::1]/app", EndpointKind.MariaDb, "::1", 3306, "app")]
    public void ParsesUris(string text, EndpointKind kind, string host, int port, string database)
    {
        var address = EndpointAddress.Parse(text);
        Assert.Equal(kind, address.Kind);
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
        Assert.Equal(database, address.Database);
    }

    [Fact]
    public void PercentEncodedPasswordIsDecodedAndNeverDisplayed()
    {
        var address = EndpointAddress.Parse("postgres://app%40corp:s%3Ac%2Fr%40t@db:5432/shop?sslmode=require");
        Assert.Equal("app@corp", address.User);
        Assert.Equal("s:c/r@t", address.Password);
        Assert.Equal("postgres://app%40corp@db:5432/shop?sslmode=require", address.Display);
        Assert.DoesNotContain("s:c", address.ToString());
    }

    [Fact]
    public void CredentialReplacesUserAndPassword()
    {
        var address = EndpointAddress.Parse("postgres://old:oldpw@db/shop", new NetworkCredential("new", "newpw"));
        Assert.Equal("new", address.User);
        Assert.Equal("newpw", address.Password);
    }

    [Fact]
    public void PlainConnectionStringsDefaultToPostgresAndHonourEngine()
    {
        var pg = EndpointAddress.Parse("Host=db;Port=5433;Database=shop;Username=u;Password=secret;SSL Mode=Disable");
        Assert.Equal(EndpointKind.Postgres, pg.Kind);
        Assert.Equal(5433, pg.Port);
        Assert.Equal("secret", pg.Password);
        Assert.DoesNotContain("secret", pg.Display);
        Assert.Equal("Disable", PgWireConnections.Builder(pg).SslMode.ToString());

        var my = EndpointAddress.Parse("Engine=MariaDB;Server=db;Database=sakila;Uid=u;Pwd=secret");
        Assert.Equal(EndpointKind.MariaDb, my.Kind);
        Assert.Equal(3306, my.Port);
        Assert.Equal("u", MySqlConnections.Builder(my).UserID);
    }

    [Theory]
    [InlineData("oracle://scott:tiger@db/orcl", "UnknownScheme")]
    [InlineData("", "InvalidAddress")]
    [InlineData("Engine=sqlite;Host=x", "InvalidAddress")]
    [InlineData("Host=x;Port=99999", "InvalidAddress")]
    public void BadAddressesAreInvalidArguments(string text, string errorId)
    {
        var error = Assert.Throws<MoltException>(() => EndpointAddress.Parse(text));
        Assert.Equal(MoltErrorKind.InvalidArgument, error.Kind);
        Assert.Equal(errorId, error.ErrorId);
        Assert.DoesNotContain("tiger", error.Message);
    }

    [Fact]
    public void UnknownOptionIsReportedWithoutThePassword()
    {
        var address = EndpointAddress.Parse("postgres://u:hunter2@db/shop?frobnicate=yes");
        var error = Assert.Throws<MoltException>(() => PgWireConnections.Builder(address));
        Assert.Contains("frobnicate", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
    }

    [Theory]
    [InlineData("postgres://u:hunter2@db/x", "postgres://u:***@db/x")]
    [InlineData("Host=db;Password=hunter2;Database=x", "Host=db;Password=***;Database=x")]
    [InlineData("postgres://db/x?password=hunter2&sslmode=disable", "postgres://db/x?password=***&sslmode=disable")]
    [InlineData("postgres://db/x?sslmode=disable&sslpassword=hunter2", "postgres://db/x?sslmode=disable&sslpassword=***")]
    [InlineData("postgres://u:hun%40ter2@db/x", "postgres://u:***@db/x")]
    [InlineData("postgres://u:p@ss:w/rd@db/x", "postgres://***")]
    [InlineData("postgres://u:hunter2@db/my@db", "postgres://***")]
    [InlineData("Host=db;Password=\"hun;ter2\";Database=x", "Host=db;Password=***;Database=x")]
    [InlineData("Host=db;Password='hun;ter2';Database=x", "Host=db;Password=***;Database=x")]
    [InlineData("Host=db;Password=\"hun\"\"ter;2\";Database=x", "Host=db;Password=***;Database=x")]
    [InlineData("Host=db; pwd = hunter2 ;Database=x", "Host=db; pwd =***;Database=x")]
    [InlineData("Host=db;Password=\"hunter2;Database=x", "Host=db;Password=***")]
    [InlineData("Host=db;Database;Password=hunter2", "Host=db;Database;Password=***")]
    public void RedactRemovesPasswords(string text, string expected) => Assert.Equal(expected, EndpointAddress.Redact(text));

    // Each password holds the pieces Zq7 and Xk9 around a delimiter that is not percent-encoded.
    [Theory]
    [InlineData("postgres://app:Zq7@Xk9@db/shop")]
    [InlineData("postgres://app:Zq7/Xk9@db/shop")]
    [InlineData("postgres://app:Zq7:Xk9@db/shop")]
    [InlineData("postgres://app:Zq7@Xk9:w/rd@127.0.0.1:5432/shop?sslmode=disable")]
    [InlineData("postgresql://app:Zq7?Xk9@db/shop")]
    [InlineData("postgres://app:12/Zq7Xk9@db/shop")]
    [InlineData("postgres://app:12?Zq7Xk9@db/shop")]
    [InlineData("postgres://app:12#Zq7Xk9@db/shop")]
    [InlineData("mysql://app:Zq7/Xk9@tcp(db:3306)/shop")]
    public void UnencodedDelimiterInThePasswordIsAnInvalidAddressThatEchoesNoneOfIt(string text)
    {
        var error = Assert.Throws<MoltException>(() => EndpointAddress.Parse(text, role: EndpointRole.Target));
        Assert.Equal(MoltErrorKind.InvalidArgument, error.Kind);
        Assert.Equal("InvalidAddress", error.ErrorId);
        Assert.Contains("Percent-encode", error.Remedy);
        Assert.Contains("-TargetCredential", error.Remedy);
        var scheme = text[..(text.IndexOf("://", StringComparison.Ordinal) + 3)];
        Assert.Equal($"target {scheme}***", error.Target);
        Assert.Equal($"{scheme}***", EndpointAddress.Redact(text));
        foreach (var piece in new[] { "Zq7", "Xk9", "12", "@db" })
        {
            Assert.DoesNotContain(piece, error.Message);
        }
    }

    [Theory]
    [InlineData("postgres://u:hunter2@db/x?sslpassword=k3y")]
    [InlineData("Host=db;Database=x;Username=u;SSL Password=k3y")]
    public void SecretOptionsAreNeverDisplayed(string text)
    {
        var address = EndpointAddress.Parse(text);
        Assert.DoesNotContain("k3y", address.Display);
        Assert.Contains("***", address.Display);
        Assert.Equal("k3y", PgWireConnections.Builder(address).SslPassword);
    }

    [Fact]
    public void AnAddressForASideNamesItInItsLabelAndErrors()
    {
        var address = EndpointAddress.Parse("postgres://app:s3cret@db:5432/shop", role: EndpointRole.Source);
        Assert.Equal("source postgres://app@db:5432/shop", address.Label);
        Assert.Equal(EndpointRole.Source, address.WithKind(EndpointKind.CockroachDb).Role);
        var error = Assert.Throws<MoltException>(() => EndpointAddress.Parse("Host=db;Port=x;Password=s3cret", role: EndpointRole.Source));
        Assert.Equal("source Host=db;Port=x;Password=***", error.Target);
        Assert.Contains("source port", error.Message);
    }

    [Theory]
    [InlineData("disable", "None")]
    [InlineData("verify-full", "VerifyFull")]
    [InlineData("require", "Required")]
    public void MySqlSslModesUseLibpqSpelling(string mode, string expected)
    {
        var address = EndpointAddress.Parse($"mysql://u@db/x?sslmode={mode}");
        Assert.Equal(expected, MySqlConnections.Builder(address).SslMode.ToString());
    }
}
