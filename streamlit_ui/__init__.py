"""The app's Streamlit side: session state, the sidebar, cached wrappers, charts, views, the process
pool and the server's life cycle. Pages call these and model/; the logic they show lives in model/.

May import model/ and connectors/; model/ and connectors/ never import this package.
"""
