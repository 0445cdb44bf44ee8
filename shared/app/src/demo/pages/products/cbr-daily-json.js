{
    "Date": "2026-11-21T11:30:00+03:00",
    "PreviousDate": "2026-11-20T11:30:00+03:00",
    "PreviousURL": "\/\/www.cbr-xml-daily.ru\/archive\/2026\/11\/20\/daily_json.js",
    "Timestamp": "2026-11-20T20:00:00+03:00",
    "Valute": {
        "AUD": {
            "ID": "R01010",
            "NumCode": "036",
            "CharCode": "AUD",
            "Nominal": 1,
            "Name": "Австралийский доллар",
            "Value": 61.8342,
            "Previous": 61.5517
        },
        "EUR": {
            "ID": "R01239",
            "NumCode": "978",
            "CharCode": "EUR",
            "Nominal": 1,
            "Name": "Евро",
            "Value": 100.4121,
            "Previous": 100.0963
        },
        "USD": {
            "ID": "R01235",
            "NumCode": "840",
            "CharCode": "USD",
            "Nominal": 1,
            "Name": "Доллар США",
            "Value": 95.2341,
            "Previous": 94.8612
        },
        "DZD": {
            "ID": "R01030",
            "NumCode": "012",
            "CharCode": "DZD",
            "Nominal": 100,
            "Name": "Алжирских динаров",
            "Value": 70.9804,
            "Previous": 70.7013
        }
    }
}
