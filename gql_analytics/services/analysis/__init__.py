"""Analysis jobs: statistics and machine learning over stored data (pandas, scikit-learn, SciPy)."""
