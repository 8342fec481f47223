"""The leaderboard: tables from results, the HTML page and its figures, the paper's rows."""
