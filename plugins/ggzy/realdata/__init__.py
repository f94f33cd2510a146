"""Real labelled bid-rigging data as an evaluation of the risk ranking (`ggzy eval real`).

Why: the demo generator was written with the rules, so scores measured on it flatter them.
Published cartel data sets (one row per bid, each bid labelled collusive or not by a
competition authority) are converted into trading-centre batches of the feed contract
(convert.py), run through the project's own load → GX gate → dbt build into a scratch
database (run.py), and the stored scores are judged as rankings of collusive against
competitive lots (report.py).
"""
