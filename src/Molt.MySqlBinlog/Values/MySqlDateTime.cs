using System.Globalization;

namespace Molt.MySqlBinlog.Values;

/// <summary>
/// A DATE or DATETIME as stored, zero dates and zero parts included (0000-00-00, 2024-00-10), with microseconds. A CLR
/// DateTime cannot hold those, so the conversion is left to the caller (<see cref="TryToDateTime"/>).
/// </summary>
public readonly record struct MySqlDateTime(int Year, int Month, int Day, int Hour = 0, int Minute = 0, int Second = 0, int Microsecond = 0)
{
    public bool IsZeroDate => Year == 0 && Month == 0 && Day == 0;

    public bool TryToDateTime(out DateTime value)
    {
        value = default;
        if (Month is < 1 or > 12 || Day < 1 || Year < 1 || Day > DateTime.DaysInMonth(Year, Month))
        {
            return false;
        }

        value = new DateTime(Year, Month, Day, Hour, Minute, Second, DateTimeKind.Unspecified).AddTicks(Microsecond * 10L);
        return true;
    }

    /// <summary>MySQL's text form with six fraction digits when there is a fraction.</summary>
    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Month:D2}-{Day:D2} {Hour:D2}:{Minute:D2}:{Second:D2}");
        return Microsecond == 0 ? text : string.Create(CultureInfo.InvariantCulture, $"{text}.{Microsecond:D6}");
    }
}

/// <summary>A TIME value: signed, up to 838:59:59.999999, with microseconds.</summary>
public readonly record struct MySqlTime(bool Negative, int Hours, int Minutes, int Seconds, int Microseconds = 0)
{
    public TimeSpan ToTimeSpan()
    {
        var ticks = ((Hours * 3600L + Minutes * 60L + Seconds) * 1_000_000L + Microseconds) * 10L;
        return TimeSpan.FromTicks(Negative ? -ticks : ticks);
    }

    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{(Negative ? "-" : "")}{Hours:D2}:{Minutes:D2}:{Seconds:D2}");
        return Microseconds == 0 ? text : string.Create(CultureInfo.InvariantCulture, $"{text}.{Microseconds:D6}");
    }
}

/// <summary>A TIMESTAMP: seconds since the Unix epoch (UTC) and microseconds; 0 seconds is the zero timestamp.</summary>
public readonly record struct MySqlTimestamp(long UnixSeconds, int Microseconds = 0)
{
    public bool IsZero => UnixSeconds == 0 && Microseconds == 0;

    public DateTimeOffset ToDateTimeOffset() => DateTimeOffset.FromUnixTimeSeconds(UnixSeconds).AddTicks(Microseconds * 10L);

    public override string ToString() => IsZero ? "0000-00-00 00:00:00" : ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
