using Molt.Engine.Load;

namespace Molt.Engine.Tests.Load;

/// <summary>What a complete Sakila load into PostgreSQL looks like, whichever dialect wrote it.</summary>
internal static class SakilaChecks
{
    public static async Task AssertArrivedWholeAsync(MySqlSourceFixture fixture, string target, LoadPlan plan)
    {
        foreach (var table in plan.Tables)
        {
            var name = table.Plan.Source.Name.Name;
            Assert.Equal(await fixture.Source.ScalarAsync<long>("sakila", $"SELECT COUNT(*) FROM `{name}`"),
                await fixture.Target.ScalarAsync<long>(target, $"SELECT count(*) FROM public.\"{name}\""));
        }

        Assert.Equal(await fixture.Source.ScalarAsync<decimal>("sakila", "SELECT SUM(amount) FROM payment"),
            await fixture.Target.ScalarAsync<decimal>(target, "SELECT sum(amount) FROM payment"));
        Assert.Equal(await fixture.Source.ScalarAsync<string>("sakila", "SELECT GROUP_CONCAT(special_features ORDER BY film_id SEPARATOR '|') FROM film WHERE film_id <= 5"),
            await fixture.Target.ScalarAsync<string>(target, "SELECT string_agg(special_features, '|' ORDER BY film_id) FROM film WHERE film_id <= 5"));
        Assert.Equal(await fixture.Source.ScalarAsync<string>("sakila", "SELECT DATE_FORMAT(MAX(rental_date), '%Y-%m-%d %H:%i:%s') FROM rental"),
            await fixture.Target.ScalarAsync<string>(target, "SELECT to_char(max(rental_date), 'YYYY-MM-DD HH24:MI:SS') FROM rental"));
        Assert.Equal(await fixture.Source.ScalarAsync<long>("sakila", "SELECT SUM(LENGTH(picture)) FROM staff"),
            await fixture.Target.ScalarAsync<long>(target, "SELECT sum(length(picture)) FROM staff"));
        // Foreign keys and the ENUM check came after the data, and identities continue after the loaded rows.
        Assert.True(await fixture.Target.ScalarAsync<long>(target, "SELECT count(*) FROM pg_constraint WHERE contype = 'f'") >= 20);
        await Assert.ThrowsAnyAsync<Exception>(() => fixture.Target.ExecuteAsync(target, "UPDATE film SET rating = 'X' WHERE film_id = 1"));
        Assert.Equal(await fixture.Source.ScalarAsync<long>("sakila", "SELECT MAX(actor_id) + 1 FROM actor"),
            await fixture.Target.ScalarAsync<long>(target, "SELECT nextval(pg_get_serial_sequence('public.actor', 'actor_id'))"));
    }
}
